import { Type } from 'typebox';

export const AttachmentKind = Type.Union(
  [Type.Literal('image'), Type.Literal('pdf'), Type.Literal('text')],
  { description: 'Decided from the bytes: an image, a PDF, or a UTF-8 text file' },
);

/** An attachment's metadata: what a message and the conversation's reads carry (never its bytes). */
export const Attachment = Type.Object({
  id: Type.String(),
  name: Type.String({ description: 'The file name it was uploaded with' }),
  mediaType: Type.String({
    description:
      'image/png, image/jpeg, image/gif, image/webp, application/pdf, or text/plain (any text file)',
  }),
  kind: AttachmentKind,
  size: Type.Integer({ description: 'Bytes' }),
  createdAt: Type.String({ format: 'date-time' }),
});

export const UploadQuery = Type.Object(
  {
    name: Type.String({
      minLength: 1,
      maxLength: 255,
      // A file name, not a path: no separators, no control characters.
      pattern: '^[^/\\\\\\u0000-\\u001f\\u007f]+$',
      description: "The file's name (its extension tells a text file's language)",
    }),
  },
  { additionalProperties: false },
);

export const UploadBody = {
  content: {
    'application/octet-stream': {
      schema: Type.Unsafe<unknown>({
        format: 'binary',
        description: "The file's bytes, as they are (not multipart, not base64)",
      }),
    },
  },
};

export const AttachmentLimits = Type.Object({
  maxBytes: Type.Integer({ description: 'The largest file accepted (ATTACHMENT_MAX_MB)' }),
  perMessage: Type.Integer({ description: 'Attachments one message may carry' }),
  imageTypes: Type.Array(Type.String()),
  documentTypes: Type.Array(Type.String()),
  textExtensions: Type.Array(Type.String(), {
    description: 'Extensions of the text files accepted (UTF-8 without NUL)',
  }),
});

export const AttachmentIds = Type.Array(Type.String({ format: 'uuid' }), {
  maxItems: 50,
  uniqueItems: true,
  description:
    'Files the message carries: your uploads (POST /api/attachments) not sent yet, or attachments of earlier messages (copied, as when a question is edited)',
});
