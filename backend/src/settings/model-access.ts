import { AppError } from '../errors.js';
import type { Role } from '../auth/repo.js';
import type { WorkspaceSettings } from './service.js';

/**
 * The admin's model allow-list, applied to a send before any upstream call: every model it may
 * use (the model and each fallback) must be allowed for the user's role. Admins may use every
 * model. The role is looked up only when a model is outside the list, so with no list (the
 * default) a send costs no query.
 */
export function createModelAccess(deps: {
  settings: { get(): Promise<WorkspaceSettings> };
  roleOf(userId: string): Promise<Role | undefined>;
}) {
  return {
    async assertAllowed(userId: string, models: string[]): Promise<void> {
      const { allowedModels } = await deps.settings.get();
      if (allowedModels === null) return;
      const refused = models.find((model) => !allowedModels.includes(model));
      if (refused === undefined) return;
      if ((await deps.roleOf(userId)) === 'admin') return;
      throw new AppError(
        'model.not_allowed',
        `The model ${refused} is not available in this workspace: choose another or ask an administrator.`,
      );
    },
  };
}

export type ModelAccess = ReturnType<typeof createModelAccess>;
