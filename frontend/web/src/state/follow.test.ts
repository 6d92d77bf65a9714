import { describe, expect, it, vi } from 'vitest';
import { ApiError, type streamGeneration } from '../api/client';
import type { StreamEvent } from '../api/types';
import { followGeneration } from './follow';

type Open = typeof streamGeneration;
type Attempt = (onEvent: (event: StreamEvent) => void) => void | Promise<void>;

const start: StreamEvent = {
  type: 'assistant_message',
  data: { messageId: 'a1', generationId: 'g1', model: 'm' },
};
const delta = (content: string): StreamEvent => ({ type: 'delta', data: { content } });
const done: StreamEvent = {
  type: 'done',
  data: {
    messageId: 'a1',
    finishReason: 'stop',
    status: 'complete',
    model: 'm',
    provider: 'P',
    timeToFirstTokenMs: 40,
    durationMs: 200,
  },
};
const networkDown = () => Promise.reject(new ApiError(0, 'network', 'Cannot reach the server.'));

/** An `open` that plays one scripted attempt per call. */
function scripted(...attempts: Attempt[]) {
  const calls: string[] = [];
  const open = vi.fn<Open>(async (generationId, { onEvent }) => {
    calls.push(generationId);
    const attempt = attempts.shift();
    if (!attempt) throw new Error('no more attempts scripted');
    await attempt(onEvent);
  });
  return { open, calls };
}

function follow(open: Open, signal = new AbortController().signal) {
  const events: StreamEvent[] = [];
  const waits: number[] = [];
  const result = followGeneration('g1', {
    signal,
    onEvent: (event) => events.push(event),
    open,
    retryDelays: [10, 20, 40],
    wait: (ms) => {
      waits.push(ms);
      return Promise.resolve();
    },
  });
  return { result, events, waits };
}

describe('followGeneration', () => {
  it('ends with the stream when it brings done', async () => {
    const { open } = scripted((emit) => {
      [start, delta('Hello'), delta(' world'), done].forEach(emit);
    });
    const { result, events, waits } = follow(open);
    await expect(result).resolves.toBe('ended');
    expect(events.map((e) => e.type)).toEqual(['assistant_message', 'delta', 'delta', 'done']);
    expect(waits).toEqual([]);
  });

  it('reattaches after a dropped connection, backing off, and passes each replay on', async () => {
    const { open, calls } = scripted(
      (emit) => {
        [start, delta('Hel')].forEach(emit);
        throw new TypeError('network error'); // the body broke off
      },
      networkDown,
      (emit) => {
        [start, delta('Hello'), delta(' world'), done].forEach(emit);
      },
    );
    const { result, events, waits } = follow(open);
    await expect(result).resolves.toBe('ended');
    expect(calls).toEqual(['g1', 'g1', 'g1']);
    expect(waits).toEqual([10, 20]);
    expect(events.filter((e) => e.type === 'assistant_message')).toHaveLength(2);
  });

  it('also reattaches when a stream ends without done or error', async () => {
    const { open } = scripted(
      (emit) => emit(start),
      (emit) => [start, done].forEach(emit),
    );
    const { result, waits } = follow(open);
    await expect(result).resolves.toBe('ended');
    expect(waits).toEqual([10]);
  });

  it('says gone on 404: the answer ended meanwhile, its saved message is the answer', async () => {
    const { open } = scripted(networkDown, () =>
      Promise.reject(new ApiError(404, 'generation.not_found', 'No running generation.')),
    );
    const { result, waits } = follow(open);
    await expect(result).resolves.toBe('gone');
    expect(waits).toEqual([10]);
  });

  it('gives up after the last retry: the caller reloads the conversation', async () => {
    const { open } = scripted(
      networkDown,
      () => Promise.reject(new ApiError(502, 'backend.unavailable', 'Down.')),
      networkDown,
      networkDown,
    );
    const { result, waits } = follow(open);
    await expect(result).resolves.toBe('lost');
    expect(waits).toEqual([10, 20, 40]);
    expect(open).toHaveBeenCalledTimes(4);
  });

  it('stops at once when aborted, without retrying', async () => {
    const controller = new AbortController();
    const { open } = scripted(() => {
      controller.abort();
      throw new DOMException('aborted', 'AbortError');
    });
    const { result } = follow(open, controller.signal);
    await expect(result).rejects.toMatchObject({ name: 'AbortError' });
    expect(open).toHaveBeenCalledTimes(1);
  });

  it('waits between attempts for real by default, and an abort ends the wait', async () => {
    const controller = new AbortController();
    const open = vi.fn<Open>(networkDown);
    const result = followGeneration('g1', { signal: controller.signal, onEvent: vi.fn(), open });
    await vi.waitFor(() => expect(open).toHaveBeenCalledTimes(1));
    controller.abort();
    await expect(result).rejects.toMatchObject({ name: 'AbortError' });
    expect(open).toHaveBeenCalledTimes(1);
  });
});
