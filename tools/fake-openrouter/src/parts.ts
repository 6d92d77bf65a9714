/**
 * Content parts of chat messages, as OpenRouter takes them (an OpenAI-style `content` array):
 * `{type: "text", text}`, `{type: "image_url", image_url: {url}}` with an http(s) URL or a
 * base64 data URL (https://openrouter.ai/docs/features/multimodal/images), and
 * `{type: "file", file: {filename, file_data}}` with a data URL or a URL
 * (https://openrouter.ai/docs/features/multimodal/pdfs). Checked here, and decoded so tests can
 * see what the fake received.
 */
import { createHash } from 'node:crypto';
import { errorBody, type ErrorBody } from './errors.js';

/** A part that is not plain text, as received (data URLs decoded). */
export interface ReceivedPart {
  messageIndex: number;
  role: string;
  type: 'image' | 'file';
  /** From the data URL; null for a URL. */
  mediaType: string | null;
  /** The file name of a `file` part; null for an image. */
  filename: string | null;
  /** Decoded bytes of a data URL; null for a URL. */
  bytes: number | null;
  /** SHA-256 (hex) of the decoded bytes; null for a URL. */
  sha256: string | null;
  /** The URL, when it is one (not a data URL). */
  url: string | null;
}

/** Image types OpenRouter accepts as data URLs. */
const IMAGE_TYPES = new Set(['image/png', 'image/jpeg', 'image/webp', 'image/gif']);
const DATA_URL = /^data:([a-z0-9.+-]+\/[a-z0-9.+-]+);base64,([A-Za-z0-9+/]*={0,2})$/i;

type Decoded = { mediaType: string; data: Buffer } | { url: string } | null;

function decode(url: unknown): Decoded {
  if (typeof url !== 'string') return null;
  const data = DATA_URL.exec(url);
  if (data) {
    const body = data[2] ?? '';
    if (body.length % 4 !== 0) return null;
    return { mediaType: (data[1] ?? '').toLowerCase(), data: Buffer.from(body, 'base64') };
  }
  return /^https?:\/\/\S+$/i.test(url) ? { url } : null;
}

const isObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

/** A 400 for the first malformed part of `content`, or null when every part is well-formed. */
export function checkParts(content: unknown[], messageIndex: number): ErrorBody | null {
  for (const [i, part] of content.entries()) {
    const at = `messages[${messageIndex}].content[${i}]`;
    if (!isObject(part)) return errorBody(400, `Invalid request: ${at} must be an object.`);
    switch (part['type']) {
      case 'text':
        if (typeof part['text'] !== 'string') {
          return errorBody(400, `Invalid request: ${at}.text must be a string.`);
        }
        break;
      case 'image_url': {
        const image = part['image_url'];
        const decoded = decode(isObject(image) ? image['url'] : undefined);
        if (decoded === null) {
          return errorBody(
            400,
            `Invalid request: ${at}.image_url.url must be an http(s) URL or a base64 data URL.`,
          );
        }
        if ('mediaType' in decoded && !IMAGE_TYPES.has(decoded.mediaType)) {
          return errorBody(
            400,
            `Invalid request: ${at} is ${decoded.mediaType}; images must be image/png, image/jpeg, image/webp or image/gif.`,
          );
        }
        break;
      }
      case 'file': {
        const file = part['file'];
        if (!isObject(file) || typeof file['filename'] !== 'string' || file['filename'] === '') {
          return errorBody(400, `Invalid request: ${at}.file.filename must be a file name.`);
        }
        if (decode(file['file_data']) === null) {
          return errorBody(
            400,
            `Invalid request: ${at}.file.file_data must be a base64 data URL or a URL.`,
          );
        }
        break;
      }
      default:
        return errorBody(400, `Invalid request: ${at}.type is not a supported content type.`);
    }
  }
  return null;
}

/** Every image and file part of the messages, in order, decoded. */
export function receivedParts(
  messages: ReadonlyArray<{ role: string; content: unknown }>,
): ReceivedPart[] {
  const out: ReceivedPart[] = [];
  for (const [messageIndex, message] of messages.entries()) {
    if (!Array.isArray(message.content)) continue;
    for (const part of message.content) {
      if (!isObject(part)) continue;
      const image = part['type'] === 'image_url' && isObject(part['image_url']);
      const file = part['type'] === 'file' && isObject(part['file']);
      if (!image && !file) continue;
      const holder = (image ? part['image_url'] : part['file']) as Record<string, unknown>;
      const decoded = decode(image ? holder['url'] : holder['file_data']);
      if (decoded === null) continue;
      const inline = 'data' in decoded;
      out.push({
        messageIndex,
        role: message.role,
        type: image ? 'image' : 'file',
        mediaType: inline ? decoded.mediaType : null,
        filename: file ? String(holder['filename']) : null,
        bytes: inline ? decoded.data.length : null,
        sha256: inline ? createHash('sha256').update(decoded.data).digest('hex') : null,
        url: inline ? null : decoded.url,
      });
    }
  }
  return out;
}

/** Whether any message carries an image part (a model then needs image input). */
export function hasImages(messages: ReadonlyArray<{ content: unknown }>): boolean {
  return messages.some(
    (m) =>
      Array.isArray(m.content) && m.content.some((p) => isObject(p) && p['type'] === 'image_url'),
  );
}

/**
 * How the answer mentions the images and files of one message, so that what the fake received
 * shows in the answer: ` [image image/png, 68 bytes] [file a.pdf: application/pdf, 1234 bytes]`.
 */
export function describeParts(parts: readonly ReceivedPart[], messageIndex: number): string {
  return parts
    .filter((p) => p.messageIndex === messageIndex)
    .map((p) => {
      const detail = p.url ?? `${p.mediaType ?? '?'}, ${p.bytes ?? 0} bytes`;
      return p.type === 'image' ? ` [image ${detail}]` : ` [file ${p.filename ?? ''}: ${detail}]`;
    })
    .join('');
}
