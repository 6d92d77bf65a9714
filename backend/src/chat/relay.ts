import type { ServerResponse } from 'node:http';
import type { SseWriter } from '../http/sse.js';
import type { GenerationEvent } from './events.js';
import type { Generation } from './generation.js';

/** Keeps idle proxies from closing a stream while the model thinks (SSE comments are ignored by clients). */
const HEARTBEAT_MS = 15_000;

/**
 * Relays a generation to an open SSE response until its `done` or `error`: first what was
 * written so far (Generation.attach: the events as sent to the first listener, the text so
 * far merged for a later one), then each event as it happens.
 * Concatenating every `delta` of the response gives exactly the answer's final text.
 *
 * When the client goes away the relay stops listening; the generation goes on and is saved.
 * Call it synchronously after checking the generation runs: it ends the response at once when
 * the generation has already ended (the client then loads the saved message).
 */
export function relayGeneration(
  res: ServerResponse,
  sse: SseWriter,
  generation: Generation,
  confirmation?: Promise<Confirmation>,
): void {
  relayGenerations(res, sse, [generation], { tagged: false, confirmation });
}

/**
 * How a send's stream tells that its question was committed (`user_message`, the saved
 * question) or could not be (`error`: nothing was kept, the answer stopped).
 */
export type Confirmation =
  | { event: 'user_message'; data: unknown }
  | { event: 'error'; data: { code: string; message: string } };

/**
 * Relays several generations (a comparison's answers) to one SSE response, interleaved as
 * they write: with `tagged`, each event's data also names its answer (`messageId`), so the
 * client can tell them apart. Each generation is relayed as relayGeneration relays one (its
 * past events, then live ones, up to its own `done` or `error`); the response ends once every
 * one of them has ended, or when the client goes away (they all go on and are saved).
 */
export function relayGenerations(
  res: ServerResponse,
  sse: SseWriter,
  generations: readonly Generation[],
  {
    tagged,
    confirmation,
  }: {
    tagged: boolean;
    /**
     * A send's: the answer streams while its question commits, and the stream's end waits for
     * the commit's word. Its `done` or `error` is held until `user_message` has been written;
     * a failed commit ends the stream with its `error` (the answer was stopped, nothing kept).
     */
    confirmation?: Promise<Confirmation> | undefined;
  },
): void {
  const heartbeat = setInterval(() => sse.comment('keep-alive'), HEARTBEAT_MS);
  const detachers: Array<() => void> = [];
  let running = 0;
  let ended = false;
  /** Ends held until the commit's word came (a send's only). */
  let held: Array<() => void> | null = confirmation === undefined ? null : [];
  const end = (): void => {
    if (ended) return;
    ended = true;
    clearInterval(heartbeat);
    for (const detach of detachers) detach();
    res.off('close', end);
    sse.close();
  };
  const write = (generation: Generation, event: GenerationEvent): void => {
    sse.send(event.event, tagged ? { ...event.data, messageId: generation.messageId } : event.data);
  };
  const finish = (generation: Generation, event: GenerationEvent): void => {
    write(generation, event);
    running -= 1;
    if (running === 0) end();
  };
  const deliver = (generation: Generation, event: GenerationEvent): void => {
    if (event.event !== 'done' && event.event !== 'error') write(generation, event);
    else if (held !== null) held.push(() => finish(generation, event));
    else finish(generation, event);
  };

  // Listeners run from each generation's loop, never inside attach(): the past events below
  // are written before any live one.
  for (const generation of generations) {
    const attached = generation.attach((event) => deliver(generation, event));
    if (attached === null) continue;
    running += 1;
    detachers.push(attached.detach);
    for (const event of attached.past) deliver(generation, event);
  }
  if (running === 0 && confirmation === undefined) {
    end();
    return;
  }
  res.on('close', end);
  void confirmation?.then((word) => {
    if (ended) return;
    sse.send(word.event, word.data);
    if (word.event === 'error') {
      end();
      return;
    }
    const ends = held ?? [];
    held = null;
    for (const endOne of ends) endOne();
    if (running === 0) end();
  });
}
