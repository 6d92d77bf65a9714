import { createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { startFakeOpenRouter, type FakeOpenRouter } from './server.js';
import { jsonChunks } from './testing.js';

let fake: FakeOpenRouter;

beforeAll(async () => {
  fake = await startFakeOpenRouter();
});

afterAll(async () => {
  await fake.close();
});

const png = Buffer.from('89504e470d0a1a0a0000000d49484452', 'hex');
const pdf = Buffer.from('%PDF-1.4\n%fake\n', 'latin1');
const dataUrl = (type: string, bytes: Buffer) => `data:${type};base64,${bytes.toString('base64')}`;

function post(body: Record<string, unknown>): Promise<Response> {
  return fetch(`${fake.url}/chat/completions`, {
    method: 'POST',
    headers: { authorization: 'Bearer sk-or-v1-fake', 'content-type': 'application/json' },
    body: JSON.stringify({ stream: true, ...body }),
  });
}

async function answerOf(response: Response): Promise<string> {
  const chunks = jsonChunks(await response.text()) as Array<{
    choices: Array<{ delta: { content?: string } }>;
  }>;
  return chunks.map((c) => c.choices[0]?.delta.content ?? '').join('');
}

describe('content parts', () => {
  it('takes text, image and file parts, records them decoded and names them in the answer', async () => {
    const before = fake.requests.length;
    const response = await post({
      model: 'openai/gpt-4o-mini',
      messages: [
        {
          role: 'user',
          content: [
            { type: 'text', text: 'What is in these?' },
            { type: 'image_url', image_url: { url: dataUrl('image/png', png) } },
            {
              type: 'file',
              file: { filename: 'report.pdf', file_data: dataUrl('application/pdf', pdf) },
            },
          ],
        },
      ],
    });
    expect(response.status).toBe(200);
    const answer = await answerOf(response);
    expect(answer).toContain('What is in these?');
    expect(answer).toContain(`[image image/png, ${png.length} bytes]`);
    expect(answer).toContain(`[file report.pdf: application/pdf, ${pdf.length} bytes]`);
    expect(fake.requests[before]?.parts).toEqual([
      {
        messageIndex: 0,
        role: 'user',
        type: 'image',
        mediaType: 'image/png',
        filename: null,
        bytes: png.length,
        sha256: createHash('sha256').update(png).digest('hex'),
        url: null,
      },
      {
        messageIndex: 0,
        role: 'user',
        type: 'file',
        mediaType: 'application/pdf',
        filename: 'report.pdf',
        bytes: pdf.length,
        sha256: createHash('sha256').update(pdf).digest('hex'),
        url: null,
      },
    ]);
  });

  it('refuses malformed parts with a 400', async () => {
    const cases: unknown[] = [
      [{ type: 'text' }],
      [{ type: 'image_url', image_url: { url: 'not a url' } }],
      [{ type: 'image_url', image_url: { url: dataUrl('image/svg+xml', Buffer.from('<svg/>')) } }],
      [{ type: 'image_url', image_url: { url: 'data:image/png;base64,abc' } }],
      [{ type: 'file', file: { file_data: dataUrl('application/pdf', pdf) } }],
      [{ type: 'file', file: { filename: 'a.pdf', file_data: 42 } }],
      [{ type: 'video_url' }],
      ['just a string'],
    ];
    for (const content of cases) {
      const response = await post({
        model: 'openai/gpt-4o-mini',
        messages: [{ role: 'user', content }],
      });
      expect(response.status, JSON.stringify(content)).toBe(400);
      const body = (await response.json()) as { error: { code: number; message: string } };
      expect(body.error.code).toBe(400);
      expect(body.error.message).toMatch(/^Invalid request: messages\[0\]\.content\[0\]/);
    }
  });

  it('a model without image input has no endpoint for an image (404), as on OpenRouter', async () => {
    const image = [{ type: 'image_url', image_url: { url: dataUrl('image/png', png) } }];
    const refused = await post({
      model: 'fake/echo',
      messages: [{ role: 'user', content: image }],
    });
    expect(refused.status).toBe(404);
    expect(((await refused.json()) as { error: { message: string } }).error.message).toBe(
      'No endpoints found that support image input',
    );
    // A fallback that takes images answers instead.
    const fallback = await post({
      model: 'fake/echo',
      models: ['anthropic/claude-3.5-haiku'],
      messages: [{ role: 'user', content: image }],
    });
    expect(fallback.status).toBe(200);
    expect(jsonChunks(await fallback.text())[0]).toMatchObject({
      model: 'anthropic/claude-3.5-haiku',
    });
    // A PDF needs no file input: OpenRouter parses it for any model.
    const pdfOnly = await post({
      model: 'fake/echo',
      messages: [
        {
          role: 'user',
          content: [
            {
              type: 'file',
              file: { filename: 'a.pdf', file_data: dataUrl('application/pdf', pdf) },
            },
          ],
        },
      ],
    });
    expect(pdfOnly.status).toBe(200);
  });
});
