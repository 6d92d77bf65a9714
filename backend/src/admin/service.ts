import type { AuditLog } from '../audit/service.js';
import type { Role } from '../auth/repo.js';
import { createAuthRepo } from '../auth/repo.js';
import type { AuthService, AuthUser, RequestContext } from '../auth/service.js';
import { hashToken } from '../auth/tokens.js';
import type { Database } from '../db/connection.js';
import { AppError } from '../errors.js';
import type { SettingsService, WorkspaceSettings } from '../settings/service.js';
import { createAdminRepo, type AdminUserRow } from './repo.js';
import type { AdminUser } from './schemas.js';

/** Who acts: the signed-in admin, their session token (kept on their own reset) and address. */
export interface Actor extends RequestContext {
  user: AuthUser;
  sessionToken: string | undefined;
}

function toAdminUser(row: AdminUserRow): AdminUser {
  return {
    id: row.id,
    username: row.username,
    role: row.role,
    createdAt: row.created_at,
    disabled: row.disabled_at !== null,
    disabledAt: row.disabled_at,
    lastSeenAt: row.last_seen_at,
    sessions: Number(row.sessions),
  };
}

/**
 * What admins do to users and to the workspace's settings. Every change is audited; every
 * change that takes access away (disable, delete, demote, a new password) takes effect at
 * once, through the auth service's session cache. No change may leave the workspace without
 * an active admin.
 */
export function createAdminService(deps: {
  db: Database;
  auth: AuthService;
  settings: SettingsService;
  audit: AuditLog;
  /** Stops the user's running answers (chat service): called when their access is taken away. */
  stopAnswersOf?: (userId: string) => void;
  /** Drops what is kept in memory of a deleted user's data (the conversation cache). */
  forgetDataOf?: (userId: string) => void;
  now?: () => Date;
}) {
  const { db, auth, settings, audit } = deps;
  const stopAnswersOf = deps.stopAnswersOf ?? (() => undefined);
  const forgetDataOf = deps.forgetDataOf ?? (() => undefined);
  const now = deps.now ?? (() => new Date());
  const repo = createAdminRepo(db);

  async function getUser(id: string): Promise<AdminUser> {
    const row = (await repo.listUsers(now().toISOString())).find((u) => u.id === id);
    if (!row) throw new AppError('user.not_found');
    return toAdminUser(row);
  }

  return {
    async listUsers(): Promise<AdminUser[]> {
      return (await repo.listUsers(now().toISOString())).map(toAdminUser);
    },

    async createUser(
      actor: Actor,
      input: { username: string; password: string; role?: Role | undefined },
    ): Promise<AdminUser> {
      const user = await auth.createUser(
        input.username,
        input.password,
        input.role ?? 'user',
        actor.user.id,
        actor,
      );
      return getUser(user.id);
    },

    /** Changes a user's role and/or disables or enables them. */
    async updateUser(
      actor: Actor,
      id: string,
      changes: { role?: Role | undefined; disabled?: boolean | undefined },
    ): Promise<AdminUser> {
      const at = now().toISOString();
      const before = await db.transaction(async (tx) => {
        const txRepo = createAdminRepo(tx);
        const user = await txRepo.findUser(id);
        if (!user) throw new AppError('user.not_found');
        const staysAdmin = (changes.role ?? user.role) === 'admin';
        const staysActive = !(changes.disabled ?? user.disabled_at !== null);
        const isActiveAdmin = user.role === 'admin' && user.disabled_at === null;
        if (isActiveAdmin && !(staysAdmin && staysActive)) {
          if ((await txRepo.countOtherActiveAdmins(id)) === 0) {
            throw new AppError('user.last_admin');
          }
        }
        if (changes.role !== undefined && changes.role !== user.role) {
          await txRepo.setRole(id, changes.role, at);
        }
        if (changes.disabled !== undefined && changes.disabled !== (user.disabled_at !== null)) {
          await txRepo.setDisabled(id, changes.disabled, at);
        }
        return user;
      });

      const roleChanged = changes.role !== undefined && changes.role !== before.role;
      const wasDisabled = before.disabled_at !== null;
      const disabledChanged = changes.disabled !== undefined && changes.disabled !== wasDisabled;
      // A disabled user is signed out everywhere; a new role applies from the next request.
      if (disabledChanged && changes.disabled) {
        await auth.revokeSessions(id);
        stopAnswersOf(id);
      } else if (roleChanged) auth.forgetUser(id);
      if (roleChanged) {
        await audit.record({
          actorId: actor.user.id,
          action: 'user.role_changed',
          targetUserId: id,
          detail: { username: before.username, from: before.role, to: changes.role },
          ip: actor.ip,
        });
      }
      if (disabledChanged) {
        await audit.record({
          actorId: actor.user.id,
          action: changes.disabled ? 'user.disabled' : 'user.enabled',
          targetUserId: id,
          detail: { username: before.username },
          ip: actor.ip,
        });
      }
      return getUser(id);
    },

    /** Deletes the user and all their data (conversations, messages, generations, folders, sessions). */
    async deleteUser(actor: Actor, id: string): Promise<void> {
      const deleted = await db.transaction(async (tx) => {
        const txRepo = createAdminRepo(tx);
        const user = await txRepo.findUser(id);
        if (!user) throw new AppError('user.not_found');
        if (user.role === 'admin' && user.disabled_at === null) {
          if ((await txRepo.countOtherActiveAdmins(id)) === 0) {
            throw new AppError('user.last_admin');
          }
        }
        await txRepo.deleteUser(id);
        return user;
      });
      auth.forgetUser(id);
      stopAnswersOf(id);
      forgetDataOf(id);
      await audit.record({
        actorId: actor.user.id,
        action: 'user.deleted',
        targetUserId: id,
        detail: { username: deleted.username, role: deleted.role },
        ip: actor.ip,
      });
    },

    /**
     * Sets a user's password. Every session of theirs ends, except the acting admin's own
     * when they reset their own password.
     */
    async resetPassword(actor: Actor, id: string, password: string): Promise<AdminUser> {
      const user = await repo.findUser(id);
      if (!user) throw new AppError('user.not_found');
      const passwordHash = await auth.hashNewPassword(password, user.username);
      const keep =
        id === actor.user.id && actor.sessionToken ? hashToken(actor.sessionToken) : null;
      await createAuthRepo(db).updatePassword(id, passwordHash, now().toISOString());
      const sessionsRevoked = await auth.revokeSessions(id, keep);
      await audit.record({
        actorId: actor.user.id,
        action: 'user.password_reset',
        targetUserId: id,
        detail: { username: user.username, sessionsRevoked },
        ip: actor.ip,
      });
      return getUser(id);
    },

    getSettings(): Promise<WorkspaceSettings> {
      return settings.get();
    },

    async updateSettings(
      actor: Actor,
      changes: {
        registrationOpen?: boolean | undefined;
        allowedModels?: string[] | null | undefined;
      },
    ): Promise<WorkspaceSettings> {
      const before = await settings.get();
      const after = await settings.update({
        ...(changes.registrationOpen !== undefined
          ? { registrationOpen: changes.registrationOpen }
          : {}),
        ...(changes.allowedModels !== undefined ? { allowedModels: changes.allowedModels } : {}),
      });
      if (after.registrationOpen !== before.registrationOpen) {
        await audit.record({
          actorId: actor.user.id,
          action: 'settings.registration',
          detail: { open: after.registrationOpen },
          ip: actor.ip,
        });
      }
      if (JSON.stringify(after.allowedModels) !== JSON.stringify(before.allowedModels)) {
        await audit.record({
          actorId: actor.user.id,
          action: 'settings.allowed_models',
          detail: { from: before.allowedModels, to: after.allowedModels },
          ip: actor.ip,
        });
      }
      return after;
    },

    listAudit(limit: number, cursor: string | undefined) {
      return audit.list(limit, cursor);
    },
  };
}

export type AdminService = ReturnType<typeof createAdminService>;
