import type { Database } from '../db/connection.js';
import { AppError, isAppError } from '../errors.js';
import { createRateLimiter } from '../http/rate-limit.js';
import type { OpenRouterClient, UpstreamKeyInfo } from '../openrouter/types.js';
import { SecretUnreadableError, type Keyring } from './crypto.js';
import { createKeysRepo, type KeyCheck, type StoredKey } from './repo.js';
import type { KeyState, KeyView } from './schemas.js';

/**
 * Where changes are recorded for admins to read (the audit log). Structural, so the audit
 * service plugs in as it is; `detail` never holds a key, only its last four characters.
 */
export interface AuditRecorder {
  record(event: {
    actorId: string | null;
    action: string;
    targetUserId?: string | null;
    detail?: Record<string, unknown> | null;
    ip?: string | null;
  }): Promise<void>;
}

export interface KeysDeps {
  db: Database;
  keyring: Keyring;
  /** The server's client (OPENROUTER_API_KEY); a user's key gets its withKey copy. */
  openrouter: OpenRouterClient;
  audit?: AuditRecorder;
  now?: () => Date;
  /** How long a key check may wait for OpenRouter. */
  checkTimeoutMs?: number;
  /** Checks (saves included) one user may make per minute (default 10). */
  checksPerMinute?: number;
}

/** Who acts, for the audit log. */
export interface Actor {
  userId: string;
  ip: string | null;
}

/** Decrypted keys kept in memory, so a send does not read and decrypt the row each time. */
const MAX_CACHED_KEYS = 10_000;

/**
 * Users' own OpenRouter keys: saved sealed (AES-256-GCM) after OpenRouter accepted them, shown
 * by their last four characters only, and used instead of the server's key for their owner's
 * chat requests (clientFor).
 */
export function createKeysService(deps: KeysDeps) {
  const { db, keyring, openrouter, audit } = deps;
  const repo = createKeysRepo(db);
  const now = deps.now ?? (() => new Date());
  const checkTimeoutMs = deps.checkTimeoutMs ?? 15_000;
  /** userId → the plaintext key, or null for "has none"; dropped on every change. */
  const cache = new Map<string, string | null>();
  // Each check asks OpenRouter: bounded per user, so nobody can test keys in bulk through us.
  const checks = createRateLimiter({
    limit: deps.checksPerMinute ?? 10,
    windowMs: 60_000,
    now: () => now().getTime(),
  });

  function remember(userId: string, key: string | null): void {
    if (cache.size >= MAX_CACHED_KEYS && !cache.has(userId)) cache.clear();
    cache.set(userId, key);
  }

  /** Asks OpenRouter about `key`: valid with its figures, invalid, or unreachable. */
  async function checkAgainstUpstream(userId: string, key: string): Promise<KeyCheck> {
    const decision = checks.consume(userId);
    if (!decision.allowed) {
      throw new AppError('api_key.too_many_checks', undefined, {
        retryAfterSeconds: decision.retryAfterSeconds,
      });
    }
    const checkedAt = now().toISOString();
    const empty = { limitUsd: null, usageUsd: null, limitRemainingUsd: null, isFreeTier: null };
    let info: UpstreamKeyInfo;
    try {
      info = await openrouter
        .withKey(key)
        .currentKey({ signal: AbortSignal.timeout(checkTimeoutMs) });
    } catch (error) {
      if (isAppError(error) && (error.upstreamStatus === 401 || error.upstreamStatus === 403)) {
        const message = `OpenRouter answered ${error.upstreamStatus}: the key is unknown, disabled or revoked.`;
        return { status: 'invalid', checkedAt, message, ...empty };
      }
      const message = isAppError(error)
        ? error.message
        : `OpenRouter did not answer within ${Math.round(checkTimeoutMs / 1000)} s.`;
      return { status: 'unreachable', checkedAt, message, ...empty };
    }
    return {
      status: 'valid',
      checkedAt,
      message: null,
      limitUsd: info.limit,
      usageUsd: info.usage,
      limitRemainingUsd: info.limitRemaining,
      isFreeTier: info.isFreeTier,
    };
  }

  function open(stored: StoredKey): string | null {
    try {
      return keyring.open(stored.sealed, stored.userId);
    } catch (error) {
      if (error instanceof SecretUnreadableError) return null;
      throw error;
    }
  }

  function view(stored: StoredKey): KeyView {
    return {
      lastFour: stored.lastFour,
      addedAt: stored.createdAt,
      updatedAt: stored.updatedAt,
      readable: open(stored) !== null,
      lastCheck: stored.check,
    };
  }

  return {
    async state(userId: string): Promise<KeyState> {
      const stored = await repo.find(userId);
      return { key: stored ? view(stored) : null, serverKeyConfigured: openrouter.hasKey };
    },

    /**
     * Checks the key with OpenRouter, then saves it sealed. A key OpenRouter refuses is not
     * saved (api_key.rejected); one it could not be asked about is saved, marked unreachable.
     */
    async save(actor: Actor, key: string): Promise<KeyState> {
      const check = await checkAgainstUpstream(actor.userId, key);
      if (check.status === 'invalid') {
        throw new AppError(
          'api_key.rejected',
          `OpenRouter refused this key. ${check.message ?? ''} Check that you copied all of it; nothing was saved.`.replace(
            '  ',
            ' ',
          ),
        );
      }
      const stored = await repo.save({
        userId: actor.userId,
        sealed: keyring.seal(key, actor.userId),
        lastFour: key.slice(-4),
        now: now().toISOString(),
        check,
      });
      remember(actor.userId, key);
      await audit?.record({
        actorId: actor.userId,
        action: 'api_key.saved',
        targetUserId: actor.userId,
        detail: { provider: 'openrouter', lastFour: stored.lastFour, check: check.status },
        ip: actor.ip,
      });
      return { key: view(stored), serverKeyConfigured: openrouter.hasKey };
    },

    /** Checks the saved key again and records the result. */
    async check(userId: string): Promise<KeyState> {
      const stored = await repo.find(userId);
      if (!stored) throw new AppError('api_key.not_found');
      const key = open(stored);
      if (key === null) throw new AppError('api_key.unreadable');
      const check = await checkAgainstUpstream(userId, key);
      await repo.saveCheck(userId, stored.sealed.ciphertext, check);
      return {
        key: view({ ...stored, check }),
        serverKeyConfigured: openrouter.hasKey,
      };
    },

    async remove(actor: Actor): Promise<void> {
      const lastFour = await repo.delete(actor.userId);
      cache.delete(actor.userId);
      if (lastFour === null) throw new AppError('api_key.not_found');
      await audit?.record({
        actorId: actor.userId,
        action: 'api_key.deleted',
        targetUserId: actor.userId,
        detail: { provider: 'openrouter', lastFour },
        ip: actor.ip,
      });
    },

    /**
     * The client for the user's chat requests: with their own key when they saved one, else
     * the server's. A saved key that cannot be decrypted is an error (api_key.unreadable), never
     * a silent fallback to the server's key: the user chose to pay with theirs.
     */
    async clientFor(userId: string): Promise<OpenRouterClient> {
      let key = cache.get(userId);
      if (key === undefined) {
        const stored = await repo.find(userId);
        if (!stored) {
          key = null;
        } else {
          key = open(stored);
          if (key === null) throw new AppError('api_key.unreadable');
          // Sealed with a previous SECRET_KEY: sealed again with the current one.
          if (stored.sealed.keyId !== keyring.currentId) {
            await repo.reseal(userId, stored.sealed.ciphertext, keyring.seal(key, userId));
          }
        }
        remember(userId, key);
      }
      return key === null ? openrouter : openrouter.withKey(key);
    },
  };
}

export type KeysService = ReturnType<typeof createKeysService>;
