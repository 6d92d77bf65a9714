/**
 * The fake's API keys, for `GET /api/v1/key` and the bearer check of chat completions.
 *
 * Any non-empty bearer token is a valid key unless a test made it invalid: keys starting with
 * `sk-or-v1-invalid` are always invalid (a convention for scripting without the API), and
 * `revokeKey(key)` makes any key invalid. Invalid keys get OpenRouter's 401 `User not found.`
 * on every authenticated route. `setKey(key, info)` sets what `/key` reports (limit, usage
 * already spent, free tier, label); the cost of every completion served with a key is added
 * to its usage, as OpenRouter does.
 */

export interface FakeKeyInfo {
  /** OpenRouter's label; default: the key's first and last characters, e.g. `sk-or-v1-abc...xyz`. */
  label?: string;
  /** Credit limit in USD; null (default) is unlimited. */
  limit?: number | null;
  /** USD already spent before this fake started; what it serves is added on top. */
  usage?: number;
  isFreeTier?: boolean;
  limitReset?: 'daily' | 'weekly' | 'monthly' | null;
  /** ISO 8601; null (default) never expires. */
  expiresAt?: string | null;
}

/** The prefix that makes a key invalid without calling revokeKey. */
export const INVALID_KEY_PREFIX = 'sk-or-v1-invalid';

export interface FakeKeys {
  set(key: string, info?: FakeKeyInfo): void;
  revoke(key: string): void;
  isValid(key: string): boolean;
  /** Adds the cost of a completion served with the key. */
  addUsage(key: string, cost: number): void;
  /** The `data` object of `GET /api/v1/key` for a valid key. */
  describe(key: string): Record<string, unknown>;
}

export function createFakeKeys(): FakeKeys {
  const infos = new Map<string, FakeKeyInfo>();
  const revoked = new Set<string>();
  const served = new Map<string, number>();

  return {
    set(key, info = {}) {
      infos.set(key, info);
      revoked.delete(key);
    },
    revoke(key) {
      revoked.add(key);
    },
    isValid(key) {
      return key !== '' && !key.startsWith(INVALID_KEY_PREFIX) && !revoked.has(key);
    },
    addUsage(key, cost) {
      if (Number.isFinite(cost) && cost > 0) served.set(key, (served.get(key) ?? 0) + cost);
    },
    describe(key) {
      const info = infos.get(key) ?? {};
      const usage = money((info.usage ?? 0) + (served.get(key) ?? 0));
      const limit = info.limit ?? null;
      return {
        label: info.label ?? labelOf(key),
        limit,
        limit_reset: info.limitReset ?? null,
        limit_remaining: limit === null ? null : money(Math.max(0, limit - usage)),
        include_byok_in_limit: false,
        // The fake lives for one test run: every period's usage is all of it.
        usage,
        usage_daily: usage,
        usage_weekly: usage,
        usage_monthly: usage,
        byok_usage: 0,
        byok_usage_daily: 0,
        byok_usage_weekly: 0,
        byok_usage_monthly: 0,
        is_free_tier: info.isFreeTier ?? false,
        is_management_key: false,
        is_provisioning_key: false,
        creator_user_id: 'user_fake0000000000000000000000',
        expires_at: info.expiresAt ?? null,
        rate_limit: {
          requests: -1,
          interval: '10s',
          note: 'This field is deprecated and safe to ignore.',
        },
      };
    },
  };
}

/** OpenRouter's label of an unnamed key: `sk-or-v1-` and 3 characters, `...`, the last 3. */
export function labelOf(key: string): string {
  const prefix = key.startsWith('sk-or-v1-') ? 'sk-or-v1-' : '';
  const rest = key.slice(prefix.length);
  if (rest.length <= 6) return `${prefix}...`;
  return `${prefix}${rest.slice(0, 3)}...${rest.slice(-3)}`;
}

/** The bearer token of an Authorization header, or null. */
export function bearerToken(authorization: string | undefined): string | null {
  const match = /^Bearer\s+(\S+)/i.exec(authorization ?? '');
  return match?.[1] ?? null;
}

function money(value: number): number {
  return Number(value.toPrecision(12));
}
