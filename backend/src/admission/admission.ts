import type { BudgetsService } from '../budgets/service.js';
import { AppError } from '../errors.js';
import type { RateLimiter } from '../http/rate-limit.js';
import type { KeysService } from '../keys/service.js';
import type { OpenRouterClient } from '../openrouter/types.js';

/** A send that may go upstream: with which client (key), and where its cost is counted. */
export interface AdmittedSend {
  /** The user's own key when they saved one, else the server's. */
  openrouter: OpenRouterClient;
  /** Counts the answer's cost (once it is saved) against the month the send started in. */
  recordCost(costUsd: number | null): void;
}

/** What one admission lets start: several sends at once for a comparison. */
export interface SendDemand {
  /** Upstream calls started together (a comparison's models); each counts against the rate limit. */
  sends: number;
  /** USD the calls are known to cost at least (their prompts); the budget must have room for it. */
  reserveUsd: number;
}

export interface SendAdmission {
  /**
   * Everything that decides whether a user may send now, before any upstream call: the rate
   * limit (chat.rate_limited, 429 with Retry-After), the monthly budget (budget.exceeded,
   * 402), and the key to send with (api_key.unreadable, upstream.no_key). One send by
   * default; a comparison asks for all its sends at once: all are admitted, or none.
   */
  admit(userId: string, demand?: SendDemand): Promise<AdmittedSend>;
}

export function createSendAdmission(deps: {
  keys: Pick<KeysService, 'clientFor'>;
  budgets: Pick<BudgetsService, 'admit' | 'recordCost'>;
  /** Sends per user per window; null: no limit. */
  limiter: RateLimiter | null;
}): SendAdmission {
  const { keys, budgets, limiter } = deps;
  return {
    async admit(userId, demand = { sends: 1, reserveUsd: 0 }) {
      const decision = limiter?.consume(userId, demand.sends);
      if (decision && !decision.allowed) {
        // The wait goes in Retry-After (RFC 9110 section 10.2.3); clients word it.
        throw new AppError('chat.rate_limited', undefined, {
          retryAfterSeconds: decision.retryAfterSeconds,
        });
      }
      const month = await budgets.admit(userId, demand.reserveUsd);
      const openrouter = await keys.clientFor(userId);
      if (!openrouter.hasKey) throw new AppError('upstream.no_key');
      return {
        openrouter,
        recordCost: (costUsd) => budgets.recordCost(userId, month, costUsd),
      };
    },
  };
}
