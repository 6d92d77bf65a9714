import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import {
  startFakeOpenRouter,
  type FakeOpenRouter,
} from '../../../tools/fake-openrouter/src/server.js';
import { AppError } from '../errors.js';
import { createOpenRouterClient } from './client.js';

const SERVER_KEY = 'sk-or-v1-server-key-0123456789';
const USER_KEY = 'sk-or-v1-user-own-key-9876543210';

let fake: FakeOpenRouter;

beforeAll(async () => {
  fake = await startFakeOpenRouter();
});

afterAll(async () => {
  await fake.close();
});

async function failure(promise: Promise<unknown>): Promise<AppError> {
  const error = await promise.then(
    () => null,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(AppError);
  return error as AppError;
}

describe('withKey', () => {
  it("sends the user's key instead of the server's, on chat completions and /key", async () => {
    const server = createOpenRouterClient({ baseUrl: fake.url, apiKey: SERVER_KEY });
    const user = server.withKey(USER_KEY);
    expect(user.hasKey).toBe(true);
    const before = fake.requests.length;
    for await (const event of user.streamChat(
      { model: 'fake/echo', messages: [{ role: 'user', content: 'mine' }] },
      { signal: new AbortController().signal },
    ))
      void event;
    await user.currentKey();
    const sent = fake.requests.slice(before);
    expect(sent.map((r) => r.path)).toEqual(['/api/v1/chat/completions', '/api/v1/key']);
    for (const request of sent) expect(request.headers.authorization).toBe(`Bearer ${USER_KEY}`);
  });

  it('words a refused user key as "your key", never naming the server variable', async () => {
    const user = createOpenRouterClient({ baseUrl: fake.url, apiKey: SERVER_KEY }).withKey(
      'sk-or-v1-invalid-user-key',
    );
    const error = await failure(
      (async () => {
        for await (const event of user.streamChat(
          { model: 'fake/echo', messages: [{ role: 'user', content: 'x' }] },
          { signal: new AbortController().signal },
        ))
          void event;
      })(),
    );
    expect(error.code).toBe('upstream.unauthorized');
    expect(error.message).toContain('your OpenRouter key on your Account page');
    expect(error.message).not.toContain('OPENROUTER_API_KEY');
    expect(error.message).not.toContain('sk-or-v1-invalid-user-key');
  });
});

describe('currentKey', () => {
  it("maps OpenRouter's GET /key answer", async () => {
    const key = 'sk-or-v1-key-with-a-limit-0001';
    fake.setKey(key, { limit: 20, usage: 5, isFreeTier: false });
    const info = await createOpenRouterClient({ baseUrl: fake.url, apiKey: key }).currentKey();
    expect(info).toEqual({ limit: 20, usage: 5, limitRemaining: 15, isFreeTier: false });
  });

  it('answers upstream.unauthorized for a refused key, without the key in the message', async () => {
    const key = 'sk-or-v1-invalid-0123456789';
    const error = await failure(
      createOpenRouterClient({ baseUrl: fake.url, apiKey: key }).currentKey(),
    );
    expect(error.code).toBe('upstream.unauthorized');
    expect(error.message).not.toContain(key);
  });

  it('answers upstream.no_key without a key, and upstream.network when nobody listens', async () => {
    expect(
      (await failure(createOpenRouterClient({ baseUrl: fake.url, apiKey: undefined }).currentKey()))
        .code,
    ).toBe('upstream.no_key');
    const closed = await startAndStop();
    const error = await failure(
      createOpenRouterClient({ baseUrl: closed, apiKey: USER_KEY }).currentKey(),
    );
    expect(error.code).toBe('upstream.network');
  });

  it('answers upstream.bad_response for a body without data', async () => {
    const { url, server } = await serve('{"nothing":true}');
    try {
      const error = await failure(
        createOpenRouterClient({ baseUrl: url, apiKey: USER_KEY }).currentKey(),
      );
      expect(error.code).toBe('upstream.bad_response');
    } finally {
      server.close();
    }
  });
});

/** The URL of a port nobody listens on (a server started, then stopped). */
async function startAndStop(): Promise<string> {
  const { url, server } = await serve('{}');
  await new Promise((resolve) => server.close(resolve));
  return url;
}

async function serve(body: string): Promise<{ url: string; server: Server }> {
  const server = createServer((_req, res) => {
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(body);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return { url: `http://127.0.0.1:${port}/api/v1`, server };
}
