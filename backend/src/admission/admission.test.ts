import { describe, expect, it } from 'vitest';
import { AppError } from '../errors.js';
import { createRateLimiter } from '../http/rate-limit.js';
import { createOpenRouterClient } from '../openrouter/client.js';
import { createSendAdmission } from './admission.js';

const server = createOpenRouterClient({
  baseUrl: 'http://127.0.0.1:9/api/v1',
  apiKey: 'sk-server',
});

function admission(options: { limit?: number; now?: () => number; over?: boolean } = {}) {
  const recorded: [string, string, number | null][] = [];
  const admitted: string[] = [];
  const gate = createSendAdmission({
    keys: { clientFor: async (userId) => (userId === 'byok' ? server.withKey('sk-own') : server) },
    budgets: {
      admit: async (userId) => {
        admitted.push(userId);
        if (options.over) throw new AppError('budget.exceeded');
        return '2026-03';
      },
      recordCost: (userId, month, cost) => void recorded.push([userId, month, cost]),
    },
    limiter:
      options.limit === undefined
        ? null
        : createRateLimiter({ limit: options.limit, windowMs: 60_000, now: options.now }),
  });
  return { gate, recorded, admitted };
}

async function failure(promise: Promise<unknown>): Promise<AppError> {
  const error = await promise.then(
    () => null,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(AppError);
  return error as AppError;
}

describe('send admission', () => {
  it('refuses the send past the rate limit with chat.rate_limited and the seconds to wait', async () => {
    let now = 1_000_000;
    const { gate, admitted } = admission({ limit: 2, now: () => now });
    await gate.admit('u1');
    now += 10_000;
    await gate.admit('u1');
    now += 5_000;
    const error = await failure(gate.admit('u1'));
    expect(error.code).toBe('chat.rate_limited');
    expect(error.status).toBe(429);
    // The first send leaves the one-minute window 45 s from now.
    expect(error.retryAfterSeconds).toBe(45);
    expect(error.message).toBe('You are sending messages too fast: wait a moment.');
    // Refused before the budget or the key is even looked at; other users are not affected.
    expect(admitted).toEqual(['u1', 'u1']);
    await gate.admit('u2');
    now += 45_000;
    await gate.admit('u1');
  });

  it("passes the budget's refusal through, and sends with the user's key when they have one", async () => {
    expect((await failure(admission({ over: true }).gate.admit('u1'))).code).toBe(
      'budget.exceeded',
    );
    const { gate, recorded } = admission();
    const own = await gate.admit('byok');
    expect(own.openrouter).not.toBe(server);
    expect(own.openrouter.hasKey).toBe(true);
    expect((await gate.admit('u1')).openrouter).toBe(server);
    own.recordCost(0.25);
    expect(recorded).toEqual([['byok', '2026-03', 0.25]]);
  });

  it('answers upstream.no_key when neither the user nor the server has a key', async () => {
    const keyless = createOpenRouterClient({
      baseUrl: 'http://127.0.0.1:9/api/v1',
      apiKey: undefined,
    });
    const gate = createSendAdmission({
      keys: { clientFor: async () => keyless },
      budgets: { admit: async () => '2026-03', recordCost: () => undefined },
      limiter: null,
    });
    expect((await failure(gate.admit('u1'))).code).toBe('upstream.no_key');
  });
});
