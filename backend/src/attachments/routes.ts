import type { Readable } from 'node:stream';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { Type } from 'typebox';
import { AppError } from '../errors.js';
import { ErrorResponse, errorResponses, IdParams } from '../http/schemas.js';
import { attachment } from '../transfer/filename.js';
import { Attachment, AttachmentLimits, UploadBody, UploadQuery } from './schemas.js';
import type { AttachmentsService } from './service.js';

const UPLOAD_TYPE = 'application/octet-stream';
const EXTENSIONS: Record<string, string> = {
  'image/png': 'png',
  'image/jpeg': 'jpg',
  'image/gif': 'gif',
  'image/webp': 'webp',
  'application/pdf': 'pdf',
};

export const attachmentRoutes: FastifyPluginAsyncTypebox<{
  attachments: AttachmentsService;
}> = async (app, { attachments }) => {
  const tags = ['attachments'];
  // An upload's body is not parsed or buffered: the route streams it to disk (with its own
  // size limit, so Fastify's bodyLimit does not apply). Only in this plugin.
  const bodies = new WeakMap<FastifyRequest, Readable>();
  app.addContentTypeParser(UPLOAD_TYPE, (request, payload, done) => {
    bodies.set(request, payload);
    done(null, undefined);
  });

  app.get(
    '/api/attachment-limits',
    {
      schema: {
        tags,
        summary: 'What may be attached: the size limit, the count per message, the types',
        response: { 200: AttachmentLimits, ...errorResponses },
      },
    },
    async () => attachments.limits(),
  );

  app.post(
    '/api/attachments',
    {
      schema: {
        tags,
        summary: 'Uploads a file to attach to your next message (pending until sent)',
        description: `The body is the file's bytes with \`Content-Type: ${UPLOAD_TYPE}\`. Its type is decided from its content (PNG, JPEG, GIF, WebP, PDF, or UTF-8 text with a text extension), never from a type the client names. An upload not sent within 24 hours is deleted.`,
        querystring: UploadQuery,
        body: UploadBody,
        response: {
          201: Attachment,
          ...errorResponses,
          409: ErrorResponse,
          413: ErrorResponse,
          415: ErrorResponse,
        },
      },
    },
    async (request, reply) => {
      const body = bodies.get(request);
      if (body === undefined) {
        throw new AppError(
          'request.unsupported_media_type',
          `Send the file's bytes as the body, with Content-Type: ${UPLOAD_TYPE}.`,
        );
      }
      const length = Number(request.headers['content-length']);
      const meta = await attachments.upload(
        request.user.id,
        request.query.name,
        body,
        Number.isFinite(length) ? length : undefined,
      );
      return reply.status(201).send(meta);
    },
  );

  app.get(
    '/api/attachments/:id',
    {
      schema: {
        tags,
        summary: 'Downloads an attachment of yours',
        description:
          "Served with its stored type (text files as text/plain), `X-Content-Type-Options: nosniff` and the API's `default-src 'none'` CSP: images inline (thumbnails), PDFs and text files as downloads.",
        params: IdParams,
        response: {
          200: {
            description: 'The file',
            content: { 'application/octet-stream': { schema: Type.String({ format: 'binary' }) } },
          },
          ...errorResponses,
        },
      },
    },
    async (request, reply) => {
      const { meta, body } = await attachments.open(request.user.id, request.params.id);
      const dot = meta.name.lastIndexOf('.');
      const [base, extension] =
        dot > 0 ? [meta.name.slice(0, dot), meta.name.slice(dot + 1)] : [meta.name, ''];
      // The name was the client's: only a plain extension reaches the header.
      const safeExtension = /^[A-Za-z0-9]{1,16}$/.test(extension)
        ? extension
        : (EXTENSIONS[meta.mediaType] ?? 'txt');
      const disposition = meta.kind === 'image' ? 'inline' : 'attachment';
      void reply
        .header('content-type', meta.kind === 'text' ? 'text/plain; charset=utf-8' : meta.mediaType)
        .header('content-length', meta.size)
        .header('content-disposition', attachment(base, safeExtension, 'attachment', disposition))
        // Its bytes never change; it is private to its owner.
        .header('cache-control', 'private, max-age=86400');
      return sendFile(reply, body);
    },
  );

  app.delete(
    '/api/attachments/:id',
    {
      schema: {
        tags,
        summary: 'Deletes an upload not sent yet (one sent is deleted with its conversation)',
        params: IdParams,
        response: { 204: Type.Null(), ...errorResponses, 409: ErrorResponse },
      },
    },
    async (request, reply) => {
      await attachments.removePending(request.user.id, request.params.id);
      return reply.status(204).send(null);
    },
  );
};

/** A file's stream as the body (the route's typed reply expects the documented string). */
function sendFile(reply: FastifyReply, body: Readable) {
  return reply.send(body);
}
