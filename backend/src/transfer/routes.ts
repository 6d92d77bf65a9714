import { Readable } from 'node:stream';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { FastifyReply } from 'fastify';
import { Type } from 'typebox';
import { ErrorResponse, errorResponses } from '../http/schemas.js';
import { ConversationIdParams, ExportArchive, ImportBody, ImportResult } from './schemas.js';
import type { Download, TransferService } from './service.js';

/** A download: never cached (it is the user's data), saved under its file name. */
function download(reply: FastifyReply, file: Download) {
  void reply
    .header('content-type', file.contentType)
    .header('content-disposition', file.contentDisposition)
    .header('cache-control', 'no-store');
  return reply.send(
    typeof file.body === 'string' ? file.body : Readable.from(file.body, { objectMode: false }),
  );
}

export const transferRoutes: FastifyPluginAsyncTypebox<{
  transfer: TransferService;
  /** The largest import file accepted, in bytes (IMPORT_MAX_MB); 413 past it. */
  importMaxBytes: number;
}> = async (app, { transfer, importMaxBytes }) => {
  const tags = ['transfer'];

  const formats = {
    markdown: {
      schema: Type.String(),
      type: 'text/markdown',
      what: 'Markdown: every branch, readable',
    },
    json: {
      schema: ExportArchive,
      type: 'application/json',
      what: 'JSON: the archive format, importable',
    },
  } as const;
  for (const [format, { schema, type, what }] of Object.entries(formats)) {
    app.get(
      `/api/export/conversations/:id/${format}`,
      {
        schema: {
          tags,
          summary: `One conversation as a download, ${what}`,
          params: ConversationIdParams,
          response: {
            200: {
              description: 'The file, with Content-Disposition: attachment',
              content: { [type]: { schema } },
            },
            ...errorResponses,
          },
        },
      },
      async (request, reply) =>
        download(
          reply,
          await transfer.exportConversation(
            request.user.id,
            request.params.id,
            format as keyof typeof formats,
          ),
        ),
    );
  }

  app.get(
    '/api/export',
    {
      schema: {
        tags,
        summary: 'Every conversation of the signed-in user as one JSON archive, streamed',
        response: { 200: ExportArchive, ...errorResponses },
      },
    },
    async (request, reply) =>
      download(reply, transfer.exportAll(request.user.id, request.user.username)),
  );

  app.post(
    '/api/import',
    {
      bodyLimit: importMaxBytes,
      schema: {
        tags,
        summary: "Imports this app's archive, a ChatGPT conversations.json or an Open WebUI export",
        body: ImportBody,
        response: { 201: ImportResult, ...errorResponses, 413: ErrorResponse },
      },
    },
    async (request, reply) =>
      reply.status(201).send(await transfer.importFile(request.user.id, request.body)),
  );
};
