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

export interface SendAdmission {
  /**
   * Everything that decides whether a user may send now, before any upstream call: the rate
   * limit (chat.rate_limited, 429 with Retry-After), the monthly budget (budget.exceeded,
   * 402), and the key to send with (api_key.unreadable, upstream.no_key).
   */
  admit(userId: string): Promise<AdmittedSend>;
}

export function createSendAdmission(deps: {
  keys: Pick<KeysService, 'clientFor'>;
  budgets: Pick<BudgetsService, 'admit' | 'recordCost'>;
  /** Sends per user per window; null: no limit. */
  limiter: RateLimiter | null;
}): SendAdmission {
  const { keys, budgets, limiter } = deps;
  return {
    async admit(userId) {
      const decision = limiter?.consume(userId);
      if (decision && !decision.allowed) {
        // The wait goes in Retry-After (RFC 9110 section 10.2.3); clients word it.
        throw new AppError('chat.rate_limited', undefined, {
          retryAfterSeconds: decision.retryAfterSeconds,
        });
      }
      const month = await budgets.admit(userId);
      const openrouter = await keys.clientFor(userId);
      if (!openrouter.hasKey) throw new AppError('upstream.no_key');
      return {
        openrouter,
        recordCost: (costUsd) => budgets.recordCost(userId, month, costUsd),
      };
    },
  };
}
