import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import type { AuthService } from '../auth/service.js';
import type { Database } from '../db/connection.js';
import { AppError } from '../errors.js';
import { ErrorResponse } from '../http/schemas.js';
import { backupDatabase } from './backup.js';
import { Manifest } from './manifest.js';

const BackupBody = Type.Object(
  { dir: Type.String({ minLength: 1, maxLength: 4096 }) },
  { additionalProperties: false },
);
const ResetPasswordBody = Type.Object(
  {
    username: Type.String({ minLength: 1, maxLength: 64 }),
    password: Type.String({ minLength: 1, maxLength: 1024 }),
  },
  { additionalProperties: false },
);
const ResetPasswordResponse = Type.Object({
  username: Type.String(),
  sessionsRevoked: Type.Integer(),
});
const errors = { 400: ErrorResponse, 403: ErrorResponse, 404: ErrorResponse, 503: ErrorResponse };

/** 127.0.0.0/8 and ::1, also as IPv4-mapped IPv6 (how a dual-stack socket reports 127.0.0.1). */
export function isLoopback(address: string | undefined): boolean {
  if (address === undefined) return false;
  const v4 = address.startsWith('::ffff:') ? address.slice(7) : address;
  return address === '::1' || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(v4);
}

/**
 * Operator routes for the `ops` CLI, which must go through the running backend because
 * DuckDB lets one process only open the file. Outside /api, so the frontend never forwards
 * them, and answered only on loopback: the socket's own address decides, never
 * X-Forwarded-For, which any client can write.
 */
export const opsRoutes: FastifyPluginAsyncTypebox<{
  db: Database;
  auth: AuthService;
  /** The attached files' folder: a backup copies the files of its rows. */
  attachmentsDir: string;
}> = async (app, { db, auth, attachmentsDir }) => {
  app.addHook('onRequest', async (request) => {
    if (!isLoopback(request.socket.remoteAddress)) {
      request.log.warn(
        { remoteAddress: request.socket.remoteAddress },
        'ops route refused: not loopback',
      );
      throw new AppError('ops.loopback_only');
    }
  });

  app.post(
    '/ops/backup',
    { schema: { hide: true, body: BackupBody, response: { 200: Manifest, ...errors } } },
    async (request) => {
      const manifest = await backupDatabase(db, request.body.dir, { attachmentsDir });
      request.log.info({ dir: request.body.dir, tables: manifest.tables }, 'backup written');
      return manifest;
    },
  );

  app.post(
    '/ops/reset-password',
    {
      schema: {
        hide: true,
        body: ResetPasswordBody,
        response: { 200: ResetPasswordResponse, ...errors },
      },
    },
    async (request) => {
      const result = await auth.resetPassword(request.body.username, request.body.password);
      request.log.warn(
        { username: result.username, sessionsRevoked: result.sessionsRevoked },
        'password reset by an operator',
      );
      return result;
    },
  );
};
