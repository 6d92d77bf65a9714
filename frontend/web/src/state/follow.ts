import { ApiError, streamGeneration } from '../api/client';
import type { StreamEvent } from '../api/types';

/**
 * How following a running answer ended:
 * - `ended`: its stream brought `done` or `error`;
 * - `gone`: it no longer runs (404: it ended meanwhile, or the server restarted), so the saved
 *   message in the conversation is the answer;
 * - `lost`: the connection kept failing; the conversation may still be loadable.
 */
export type FollowEnd = 'ended' | 'gone' | 'lost';

/** Waits before each new attempt after a dropped connection: a few, soon, then less often. */
export const RETRY_DELAYS_MS: readonly number[] = [250, 500, 1000, 2000, 4000];

export interface FollowOptions {
  signal: AbortSignal;
  /** Each attempt starts with `assistant_message` and replays the whole text so far. */
  onEvent: (event: StreamEvent) => void;
  retryDelays?: readonly number[];
  open?: typeof streamGeneration;
  wait?: (ms: number, signal: AbortSignal) => Promise<void>;
}

/**
 * Follows a running answer over GET /api/generations/:id/stream until it ends, reattaching
 * after each dropped connection (or a stream that stops short of its end) once per entry of
 * `retryDelays`. Rejects with the AbortError when `signal` aborts.
 */
export async function followGeneration(
  generationId: string,
  options: FollowOptions,
): Promise<FollowEnd> {
  const { signal, retryDelays = RETRY_DELAYS_MS, open = streamGeneration, wait = sleep } = options;
  for (let attempt = 0; ; attempt++) {
    let ended = false;
    try {
      await open(generationId, {
        signal,
        onEvent: (event) => {
          if (event.type === 'done' || event.type === 'error') ended = true;
          options.onEvent(event);
        },
      });
    } catch (err) {
      if (isAbort(err) || signal.aborted) throw err;
      if (!retriable(err)) return 'gone';
    }
    if (ended) return 'ended';
    const delay = retryDelays[attempt];
    if (delay === undefined) return 'lost';
    await wait(delay, signal);
  }
}

/**
 * Network failures and server-side trouble are worth another try; a 404 (or any other refusal)
 * means the answer is not running any more.
 */
function retriable(err: unknown): boolean {
  if (!(err instanceof ApiError)) return true; // the body broke off mid-stream (TypeError)
  return err.status === 0 || err.status >= 500 || err.code === 'stream.unexpected';
}

function isAbort(err: unknown): boolean {
  return err instanceof DOMException && err.name === 'AbortError';
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal.aborted) {
      reject(signal.reason as Error);
      return;
    }
    const timer = setTimeout(() => {
      signal.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal.reason as Error);
    };
    signal.addEventListener('abort', onAbort, { once: true });
  });
}
