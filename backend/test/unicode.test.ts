import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestContext } from '../src/test-support/context.js';
import { setupAdmin, type SignedInUser } from '../src/test-support/factories.js';
import { sendMessage, streamedText } from '../src/test-support/sse-client.js';

// Text goes in through JSON, out through JSON and SSE, and sits in DuckDB in between: each
// case must come back exactly as sent (no normalization, no replacement characters), or be
// refused with a 400 that names the field, before anything is saved or sent upstream.
// Streams are read with the WHATWG parser, as a browser reads them.

let ctx: TestContext;
let admin: SignedInUser;

beforeAll(async () => {
  ctx = await startTestApp();
  admin = await setupAdmin(ctx.app);
});
afterAll(() => ctx.close());

/** Text that must survive untouched. */
const roundTrips: Record<string, string> = {
  'emoji with ZWJ sequences, flags and skin tones': '👩‍👩‍👧‍👦 🇩🇪 🏳️‍🌈 👍🏽 🧑🏿‍🚀 😀',
  'RTL text': 'مرحبا بالعالم — שלום עולם',
  'bidi controls': 'a\u202Eevil\u202C b\u200F c\u2067d\u2069 e\u200E',
  'combining marks': 'Z̷̢̛̤̗̻̖͙͍̦͕̬̻̖̀ͤ̇̃ͤͧ̀a̸l̶g̷o̵ café',
  'NFC and NFD kept apart': '\u00e9 e\u0301 \u212b A\u030a',
  'astral letters and CJK': '𝕳𝖊𝖑𝖑𝖔 𠜎𠜱𠝹 漢字かなカナ 한국어',
  'line and paragraph separators': 'one\u2028two\u2029three',
  'CR, CRLF, tab and other controls': 'a\rb\r\nc\td\u0001e\u001bf\u007fg',
  'BOM, noncharacters, the last code point': '\uFEFFx\uFFFEy\uFFFFz\u{10FFFF}',
  'quotes, backslashes and SSE-like text': '"\\ \\u0000 \n\ndata: fake\n\nevent: done\n',
};

async function newConversation(title?: string): Promise<string> {
  const response = await ctx.app.inject({
    method: 'POST',
    url: '/api/conversations',
    headers: { cookie: admin.cookie },
    payload: { model: 'fake/echo', ...(title === undefined ? {} : { title }) },
  });
  expect(response.statusCode, response.body).toBe(201);
  return response.json().id;
}

async function read(id: string) {
  const response = await ctx.app.inject({
    url: `/api/conversations/${id}`,
    headers: { cookie: admin.cookie },
  });
  expect(response.statusCode).toBe(200);
  return response.json();
}

async function send(id: string, content: string) {
  const stream = await sendMessage(ctx.baseUrl, admin.cookie, id, { content });
  expect(stream.status, JSON.stringify(stream.body)).toBe(200);
  expect(stream.events.at(-1)?.event).toBe('done');
  return stream;
}

/** Sends the body as raw JSON text: JSON.stringify writes a lone surrogate as its \u escape. */
function inject(method: 'POST' | 'PATCH', url: string, body: unknown) {
  return ctx.app.inject({
    method,
    url,
    headers: { cookie: admin.cookie, 'content-type': 'application/json' },
    payload: JSON.stringify(body),
  });
}

describe('text that round-trips exactly', () => {
  for (const [name, text] of Object.entries(roundTrips)) {
    it(`${name}: in a message, its streamed answer, and a title`, async () => {
      const id = await newConversation(text.slice(0, 200));
      const { events } = await send(id, text);
      expect(events.find((e) => e.event === 'user_message')?.data.content).toBe(text);
      const streamed = streamedText(events);
      // The fake echoes the message: it went upstream and back unchanged too.
      expect(streamed.startsWith(`You said: ${text}. `)).toBe(true);

      const { conversation, messages } = await read(id);
      expect(conversation.title).toBe(text.slice(0, 200));
      expect(messages[0].content).toBe(text);
      expect(messages[1].content).toBe(streamed);

      const renamed = await inject('PATCH', `/api/conversations/${id}`, { title: `${text}!` });
      expect(renamed.statusCode).toBe(200);
      expect(renamed.json().title).toBe(`${text}!`);
      expect((await read(id)).conversation.title).toBe(`${text}!`);
    });
  }

  it('a 150 000-character line, and a title of 200 astral characters (the limit counts code points)', async () => {
    const line = '🙂 naïve שלום '.repeat(12_500);
    expect(line.length).toBeGreaterThan(150_000);
    const title = '😀'.repeat(200);
    const id = await newConversation(title);
    await send(id, line);
    const { conversation, messages } = await read(id);
    expect(conversation.title).toBe(title);
    expect(messages[0].content).toBe(line);
    expect(messages[1].content.startsWith(`You said: ${line}. `)).toBe(true);

    const tooLong = await inject('PATCH', `/api/conversations/${id}`, { title: `${title}😀` });
    expect(tooLong.statusCode).toBe(400);
    expect(tooLong.json().error.message).toContain('title');
  });

  it('keeps an auto title cut from a first message written in astral characters', async () => {
    const id = await newConversation();
    const content = '🙂🙃 '.repeat(10);
    await send(id, content);
    expect((await read(id)).conversation.title).toBe(content.trim());
  });
});

describe('text that cannot be stored as sent is refused, naming the field', () => {
  const unstorable: Record<string, string> = {
    'a NUL character': 'before\u0000after',
    'a lone high surrogate': 'broken \ud83d pair',
    'a lone low surrogate': 'broken \ude00 pair',
    'a surrogate pair in the wrong order': 'x\ude00\ud83dy',
    'a high surrogate at the very end': 'ends with \ud83d',
  };

  for (const [name, text] of Object.entries(unstorable)) {
    it(`${name}`, async () => {
      const id = await newConversation('unchanged');
      const upstreamCalls = ctx.fake.requests.length;
      const attempts = [
        {
          field: 'content',
          response: await inject('POST', `/api/conversations/${id}/messages`, { content: text }),
        },
        {
          field: 'title',
          response: await inject('PATCH', `/api/conversations/${id}`, { title: text }),
        },
        {
          field: 'title',
          response: await inject('POST', '/api/conversations', { title: text }),
        },
        {
          field: 'model',
          response: await inject('PATCH', `/api/conversations/${id}`, {
            model: text.replaceAll(' ', '-'),
          }),
        },
      ];
      for (const { field, response } of attempts) {
        expect(response.statusCode, response.body).toBe(400);
        expect(response.headers['content-type']).toContain('application/json');
        expect(response.json()).toEqual({
          error: {
            code: 'request.invalid',
            message: `Invalid body: ${field} must not contain NUL characters or unpaired surrogates (invalid Unicode)`,
          },
        });
      }
      const { conversation, messages } = await read(id);
      expect(conversation).toMatchObject({ title: 'unchanged', model: 'fake/echo' });
      expect(messages).toEqual([]);
      expect(ctx.fake.requests.length).toBe(upstreamCalls);
    });
  }

  it('in a query string too', async () => {
    const response = await ctx.app.inject({
      url: `/api/conversations?cursor=${encodeURIComponent('a\u0000b')}`,
      headers: { cookie: admin.cookie },
    });
    expect(response.statusCode).toBe(400);
    expect(response.json().error).toEqual({
      code: 'request.invalid',
      message:
        'Invalid querystring: cursor must not contain NUL characters or unpaired surrogates (invalid Unicode)',
    });
  });

  it('in a field a schema check would refuse anyway, the schema error comes first', async () => {
    const response = await inject('POST', '/api/auth/login', {
      username: 'ad\u0000min',
      password: 'correct horse battery',
    });
    expect(response.statusCode).toBe(400);
    expect(response.json().error.message).toContain('username must match pattern');
  });
});
