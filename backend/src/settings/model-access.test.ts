import { describe, expect, it } from 'vitest';
import { AppError } from '../errors.js';
import type { Role } from '../auth/repo.js';
import { createModelAccess } from './model-access.js';

function access(allowedModels: string[] | null, roles: Record<string, Role>) {
  const lookedUp: string[] = [];
  const gate = createModelAccess({
    settings: { get: async () => ({ registrationOpen: false, allowedModels }) },
    roleOf: async (userId) => {
      lookedUp.push(userId);
      return roles[userId];
    },
  });
  return { gate, lookedUp };
}

async function refusal(promise: Promise<void>): Promise<AppError | null> {
  return promise.then(
    () => null,
    (error: unknown) => {
      if (error instanceof AppError) return error;
      throw error;
    },
  );
}

describe('model access', () => {
  it('allows every model to everyone without a list, and looks up no role', async () => {
    const { gate, lookedUp } = access(null, { u: 'user' });
    expect(await refusal(gate.assertAllowed('u', ['any/model', 'other/model']))).toBeNull();
    expect(lookedUp).toEqual([]);
  });

  it('refuses a user a model or fallback outside the list, naming it', async () => {
    const { gate } = access(['a/ok', 'b/ok'], { u: 'user' });
    expect(await refusal(gate.assertAllowed('u', ['a/ok', 'b/ok']))).toBeNull();
    const error = await refusal(gate.assertAllowed('u', ['a/ok', 'c/no']));
    expect(error?.code).toBe('model.not_allowed');
    expect(error?.status).toBe(403);
    expect(error?.message).toContain('c/no');
    // An unknown user id is no admin.
    expect((await refusal(gate.assertAllowed('ghost', ['c/no'])))?.code).toBe('model.not_allowed');
  });

  it('lets admins use every model, looking the role up only when a model is outside the list', async () => {
    const { gate, lookedUp } = access(['a/ok'], { boss: 'admin' });
    expect(await refusal(gate.assertAllowed('boss', ['a/ok']))).toBeNull();
    expect(lookedUp).toEqual([]);
    expect(await refusal(gate.assertAllowed('boss', ['z/any']))).toBeNull();
    expect(lookedUp).toEqual(['boss']);
  });
});
