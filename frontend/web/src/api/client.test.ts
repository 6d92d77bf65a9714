import { afterEach, describe, expect, it, vi } from 'vitest';
import { ApiError, api, streamGeneration, streamMessage } from './client';
import type { StreamEvent } from './types';

function sseResponse(chunks: string[]): Response {
  const encoder = new TextEncoder();
  const body = new ReadableStream<Uint8Array>({
    start(controller) {
      for (const chunk of chunks) controller.enqueue(encoder.encode(chunk));
      controller.close();
    },
  });
  return new Response(body, { status: 200, headers: { 'content-type': 'text/event-stream' } });
}

afterEach(() => {
  vi.unstubAllGlobals();
});

describe('streamMessage', () => {
  it('posts the message and delivers typed events after onOpen', async () => {
    const fetchMock = vi
      .fn<typeof fetch>()
      .mockResolvedValue(
        sseResponse([
          'event: assistant_message\ndata: {"messageId":"a1","generationId":"g1","model":"m"}\n\nevent: del',
          'ta\ndata: {"content":"Hi"}\n\n: ping\n\nevent: mystery\ndata: {}\n\n',
          'event: done\ndata: {"messageId":"a1","finishReason":"stop","status":"complete"}\n\n',
        ]),
      );
    vi.stubGlobal('fetch', fetchMock);
    const log: string[] = [];
    const events: StreamEvent[] = [];
    await streamMessage(
      'c 1',
      { content: 'hello', model: 'm' },
      {
        onOpen: () => log.push('open'),
        onEvent: (e) => {
          log.push(e.type);
          events.push(e);
        },
      },
    );
    expect(log).toEqual(['open', 'assistant_message', 'delta', 'done']);
    expect(events[1]).toEqual({ type: 'delta', data: { content: 'Hi' } });
    const [url, init] = fetchMock.mock.calls[0] ?? [];
    expect(url).toBe('/api/conversations/c%201/messages');
    expect(init?.method).toBe('POST');
    expect(init?.body).toBe('{"content":"hello","model":"m"}');
  });

  it("rejects with the backend's own message when refused before the stream", async () => {
    vi.stubGlobal(
      'fetch',
      vi
        .fn<typeof fetch>()
        .mockResolvedValue(
          Response.json(
            { error: { code: 'model.unknown', message: 'Unknown model "x".' } },
            { status: 400 },
          ),
        ),
    );
    const onOpen = vi.fn();
    const error = await streamMessage('c1', { content: 'hi' }, { onOpen, onEvent: vi.fn() }).catch(
      (err: unknown) => err,
    );
    expect(error).toBeInstanceOf(ApiError);
    expect(error).toMatchObject({
      status: 400,
      code: 'model.unknown',
      message: 'Unknown model "x".',
    });
    expect(onOpen).not.toHaveBeenCalled();
  });
});

describe('streamGeneration', () => {
  it('reattaches with a GET and delivers the replay and live events', async () => {
    const fetchMock = vi
      .fn<typeof fetch>()
      .mockResolvedValue(
        sseResponse([
          'event: assistant_message\ndata: {"messageId":"a1","generationId":"g 1","model":"m"}\n\n',
          'event: delta\ndata: {"content":"Hello so far"}\n\nevent: delta\ndata: {"content":"!"}\n\n',
        ]),
      );
    vi.stubGlobal('fetch', fetchMock);
    const events: StreamEvent[] = [];
    await streamGeneration('g 1', { onEvent: (e) => events.push(e) });
    expect(events.map((e) => e.type)).toEqual(['assistant_message', 'delta', 'delta']);
    const [url, init] = fetchMock.mock.calls[0] ?? [];
    expect(url).toBe('/api/generations/g%201/stream');
    expect(init?.method).toBe('GET');
  });

  it('rejects with 404 generation.not_found once the answer has ended', async () => {
    vi.stubGlobal(
      'fetch',
      vi
        .fn<typeof fetch>()
        .mockResolvedValue(
          Response.json(
            { error: { code: 'generation.not_found', message: 'No running generation.' } },
            { status: 404 },
          ),
        ),
    );
    await expect(streamGeneration('g1', { onEvent: vi.fn() })).rejects.toMatchObject({
      status: 404,
      code: 'generation.not_found',
    });
  });
});

describe('api', () => {
  it('reports a proxy 502 with its JSON message', async () => {
    vi.stubGlobal(
      'fetch',
      vi
        .fn<typeof fetch>()
        .mockResolvedValue(
          Response.json(
            { error: { code: 'backend.unavailable', message: 'The backend is not reachable.' } },
            { status: 502 },
          ),
        ),
    );
    await expect(api.health()).rejects.toMatchObject({
      status: 502,
      message: 'The backend is not reachable.',
    });
  });

  it('reports a network failure', async () => {
    vi.stubGlobal('fetch', vi.fn<typeof fetch>().mockRejectedValue(new TypeError('Failed')));
    await expect(api.models()).rejects.toMatchObject({ status: 0, code: 'network' });
  });
});
