/**
 * For tests: an undici dispatcher that answers from a script instead of the network, for the
 * protocol edge cases and failures the fake OpenRouter never sends. Pass it to
 * createOpenRouterClient as `dispatcher`. Everything else in the client runs as in production:
 * undici's request(), its response body, the abort that closes it.
 */
import { Dispatcher } from 'undici';

export type ScriptStep =
  /**
   * An answer: status (200), headers (content-type text/event-stream unless given) and a body
   * that arrives in exactly these parts, one per turn of the event loop, as off a socket.
   */
  | { status?: number; headers?: Record<string, string>; body?: string | (string | Uint8Array)[] }
  /** The request fails before any response with this error (e.g. a refused connection). */
  | { throws: Error };

export interface ScriptedDispatcher {
  dispatcher: Dispatcher;
  /** performance.now() of each request, in order. */
  calls: number[];
}

/**
 * One step per request, in order; the last step answers every request after it. Drives the
 * handler that undici's request() passes to its dispatcher as undici's own dispatchers do
 * (onConnect, then onHeaders, onData per part and onComplete, or onError), and stops when
 * that handler aborts (the caller's signal, or its body destroyed).
 */
export function scriptedDispatcher(script: ScriptStep[]): ScriptedDispatcher {
  const calls: number[] = [];
  class Scripted extends Dispatcher {
    override dispatch(
      _options: Dispatcher.DispatchOptions,
      handler: Dispatcher.DispatchHandler,
    ): boolean {
      calls.push(performance.now());
      const step = script[Math.min(calls.length - 1, script.length - 1)];
      let done = false;
      const fail = (error: Error): void => {
        if (done) return;
        done = true;
        handler.onError?.(error);
      };
      handler.onConnect?.((reason) => fail(reason ?? new Error('aborted')));
      setImmediate(() => {
        if (done) return;
        if (!step) return fail(new Error('empty script'));
        if ('throws' in step) return fail(step.throws);
        const headers = { 'content-type': 'text/event-stream', ...step.headers };
        const raw = Object.entries(headers).flatMap(([name, value]) => [
          Buffer.from(name),
          Buffer.from(value),
        ]);
        handler.onHeaders?.(step.status ?? 200, raw, () => undefined, 'Scripted');
        const parts = typeof step.body === 'string' ? [step.body] : (step.body ?? []);
        let index = 0;
        const next = (): void => {
          if (done) return;
          const part = parts[index++];
          if (part === undefined) {
            done = true;
            handler.onComplete?.([]);
            return;
          }
          handler.onData?.(Buffer.from(part));
          setImmediate(next);
        };
        next();
      });
      return true;
    }
  }
  return { dispatcher: new Scripted(), calls };
}
