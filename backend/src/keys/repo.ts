import type { Queryable } from '../db/connection.js';
import type { SealedSecret } from './crypto.js';

export type KeyCheckStatus = 'valid' | 'invalid' | 'unreachable';

export interface KeyCheck {
  status: KeyCheckStatus;
  checkedAt: string;
  /** Why it is invalid or unreachable (the upstream's words, never the key). */
  message: string | null;
  limitUsd: number | null;
  usageUsd: number | null;
  limitRemainingUsd: number | null;
  isFreeTier: boolean | null;
}

export interface StoredKey {
  userId: string;
  sealed: SealedSecret;
  lastFour: string;
  createdAt: string;
  updatedAt: string;
  check: KeyCheck | null;
}

type KeyRow = {
  user_id: string;
  key_id: string;
  nonce: string;
  ciphertext: string;
  auth_tag: string;
  last_four: string;
  created_at: string;
  updated_at: string;
  checked_at: string | null;
  check_status: KeyCheckStatus | null;
  check_message: string | null;
  check_limit_usd: number | null;
  check_usage_usd: number | null;
  check_limit_remaining_usd: number | null;
  check_is_free_tier: boolean | null;
};

const columns = `user_id, key_id, nonce, ciphertext, auth_tag, last_four, created_at, updated_at,
  checked_at, check_status, check_message, check_limit_usd, check_usage_usd,
  check_limit_remaining_usd, check_is_free_tier`;

/** Users' own API keys, sealed (keys/crypto.ts): every query is by the owner's id. */
export function createKeysRepo(db: Queryable) {
  return {
    async find(userId: string): Promise<StoredKey | undefined> {
      const row = await db.one<KeyRow>(`SELECT ${columns} FROM user_api_keys WHERE user_id = $1`, [
        userId,
      ]);
      return row && toStoredKey(row);
    },

    /** Inserts or replaces the user's key; a replaced key keeps its created_at. */
    async save(
      key: Omit<StoredKey, 'createdAt' | 'updatedAt'> & { now: string },
    ): Promise<StoredKey> {
      const { sealed, check } = key;
      const rows = await db.all<KeyRow>(
        `INSERT INTO user_api_keys (user_id, key_id, nonce, ciphertext, auth_tag, last_four,
           created_at, updated_at, checked_at, check_status, check_message, check_limit_usd,
           check_usage_usd, check_limit_remaining_usd, check_is_free_tier)
         VALUES ($1, $2, $3, $4, $5, $6, CAST($7 AS TIMESTAMPTZ), CAST($7 AS TIMESTAMPTZ),
           CAST($8 AS TIMESTAMPTZ), $9, $10, $11, $12, $13, $14)
         ON CONFLICT (user_id) DO UPDATE SET key_id = excluded.key_id, nonce = excluded.nonce,
           ciphertext = excluded.ciphertext, auth_tag = excluded.auth_tag,
           last_four = excluded.last_four, updated_at = excluded.updated_at,
           checked_at = excluded.checked_at, check_status = excluded.check_status,
           check_message = excluded.check_message, check_limit_usd = excluded.check_limit_usd,
           check_usage_usd = excluded.check_usage_usd,
           check_limit_remaining_usd = excluded.check_limit_remaining_usd,
           check_is_free_tier = excluded.check_is_free_tier
         RETURNING ${columns}`,
        [
          key.userId,
          sealed.keyId,
          sealed.nonce,
          sealed.ciphertext,
          sealed.tag,
          key.lastFour,
          key.now,
          check?.checkedAt ?? null,
          check?.status ?? null,
          check?.message ?? null,
          check?.limitUsd ?? null,
          check?.usageUsd ?? null,
          check?.limitRemainingUsd ?? null,
          check?.isFreeTier ?? null,
        ],
      );
      return toStoredKey(rows[0] as KeyRow);
    },

    /** Records a check of the key whose ciphertext is `ciphertext` (not a newer one saved since). */
    async saveCheck(userId: string, ciphertext: string, check: KeyCheck): Promise<boolean> {
      const rows = await db.all<{ user_id: string }>(
        `UPDATE user_api_keys SET checked_at = CAST($3 AS TIMESTAMPTZ), check_status = $4,
           check_message = $5, check_limit_usd = $6, check_usage_usd = $7,
           check_limit_remaining_usd = $8, check_is_free_tier = $9
         WHERE user_id = $1 AND ciphertext = $2
         RETURNING user_id`,
        [
          userId,
          ciphertext,
          check.checkedAt,
          check.status,
          check.message,
          check.limitUsd,
          check.usageUsd,
          check.limitRemainingUsd,
          check.isFreeTier,
        ],
      );
      return rows.length > 0;
    },

    /** Replaces the ciphertext of an unchanged key with one sealed by the current SECRET_KEY. */
    async reseal(userId: string, previous: string, sealed: SealedSecret): Promise<void> {
      await db.run(
        `UPDATE user_api_keys SET key_id = $3, nonce = $4, ciphertext = $5, auth_tag = $6
         WHERE user_id = $1 AND ciphertext = $2`,
        [userId, previous, sealed.keyId, sealed.nonce, sealed.ciphertext, sealed.tag],
      );
    },

    /** The deleted key's last four characters, or null when the user had none. */
    async delete(userId: string): Promise<string | null> {
      const rows = await db.all<{ last_four: string }>(
        'DELETE FROM user_api_keys WHERE user_id = $1 RETURNING last_four',
        [userId],
      );
      return rows[0]?.last_four ?? null;
    },
  };
}

function toStoredKey(row: KeyRow): StoredKey {
  return {
    userId: row.user_id,
    sealed: { keyId: row.key_id, nonce: row.nonce, ciphertext: row.ciphertext, tag: row.auth_tag },
    lastFour: row.last_four,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
    check:
      row.check_status === null || row.checked_at === null
        ? null
        : {
            status: row.check_status,
            checkedAt: row.checked_at,
            message: row.check_message,
            limitUsd: row.check_limit_usd,
            usageUsd: row.check_usage_usd,
            limitRemainingUsd: row.check_limit_remaining_usd,
            isFreeTier: row.check_is_free_tier,
          },
  };
}
