import type { ServerResponse } from 'node:http';
import type { SseWriter } from '../http/sse.js';
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
export function relayGeneration(res: ServerResponse, sse: SseWriter, generation: Generation): void {
  const heartbeat = setInterval(() => sse.comment('keep-alive'), HEARTBEAT_MS);
  let detach = (): void => undefined;
  const end = (): void => {
    clearInterval(heartbeat);
    detach();
    res.off('close', end);
    sse.close();
  };

  // Listeners run from the generation's loop, never inside attach(): the past events below
  // are written before any live one.
  const attached = generation.attach((event) => {
    sse.send(event.event, event.data);
    if (event.event === 'done' || event.event === 'error') end();
  });
  if (attached === null) {
    end();
    return;
  }
  detach = attached.detach;
  for (const event of attached.past) sse.send(event.event, event.data);
  res.on('close', end);
}
