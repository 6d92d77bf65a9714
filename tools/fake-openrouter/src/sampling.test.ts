import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFakeOpenRouter, type FakeOpenRouter } from './server.js';

let fake: FakeOpenRouter;

beforeAll(async () => {
  fake = await startFakeOpenRouter();
});

afterAll(async () => {
  await fake.close();
});

function chat(extra: Record<string, unknown>): Promise<Response> {
  return fetch(`${fake.url}/chat/completions`, {
    method: 'POST',
    headers: { authorization: 'Bearer sk-or-v1-fake', 'content-type': 'application/json' },
    body: JSON.stringify({
      model: 'fake/reasoning',
      messages: [{ role: 'user', content: 'hello' }],
      ...extra,
    }),
  });
}

describe('generation parameters', () => {
  it('takes valid ones and records them as sent', async () => {
    const params = {
      temperature: 0.3,
      top_p: 1,
      max_tokens: 64,
      reasoning: { effort: 'xhigh' },
    };
    const response = await chat(params);
    expect(response.status).toBe(200);
    await response.json();
    expect(fake.requests.at(-1)?.body).toMatchObject(params);
    for (const effort of ['high', 'medium', 'low', 'minimal', 'none']) {
      const ok = await chat({ reasoning: { effort }, temperature: 0, top_p: 0 });
      expect(ok.status, effort).toBe(200);
      await ok.json();
    }
  });

  it.each([
    [{ temperature: 2.5 }, 'temperature'],
    [{ temperature: -0.1 }, 'temperature'],
    [{ temperature: '1' }, 'temperature'],
    [{ top_p: 1.5 }, 'top_p'],
    [{ max_tokens: 0 }, 'max_tokens'],
    [{ max_tokens: 1.5 }, 'max_tokens'],
    [{ reasoning: 'high' }, 'reasoning'],
    [{ reasoning: { effort: 'extreme' } }, 'reasoning.effort'],
    [{ reasoning: { effort: 'high', max_tokens: 100 } }, 'not both'],
    [{ reasoning: { exclude: 'yes' } }, 'reasoning.exclude'],
  ])('refuses %j with a 400 naming it', async (extra, named) => {
    const response = await chat(extra);
    expect(response.status).toBe(400);
    const body = (await response.json()) as { error: { code: number; message: string } };
    expect(body.error.code).toBe(400);
    expect(body.error.message).toContain(named);
  });
});
