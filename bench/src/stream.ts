/**
 * The load client: sends one streamed request and timestamps the arrival of every content
 * chunk. Two wire formats: OpenRouter's (`data: {chat.completion.chunk}` … `data: [DONE]`,
 * straight from the fake) and the app's own (`event: delta` … `event: done`).
 */
import { Agent, request, type Dispatcher } from 'undici';

export type WireFormat = 'openrouter' | 'app';

export interface StreamTarget {
  name: string;
  format: WireFormat;
  dispatcher: Dispatcher;
  /** A cheap GET along the same path, used to open the client's connections beforehand. */
  warmUrl: string;
  /** The request for stream number `i`. */
  request(i: number): { url: string; headers: Record<string, string>; body: string };
}

export interface StreamResult {
  ok: boolean;
  error: string | null;
  status: number;
  /** performance.now() when the request was sent. */
  startedAt: number;
  /** performance.now() at the arrival of each content chunk. */
  chunks: number[];
  endedAt: number;
}

/**
 * Counted as broken: a status other than 200, a transport error, an `error` event (or an
 * OpenRouter error chunk), a stream that ends without `done` / `[DONE]`, or fewer content
 * chunks than expected.
 */
export async function runStream(
  target: StreamTarget,
  i: number,
  expectedChunks: number,
  timeoutMs = 300_000,
): Promise<StreamResult> {
  const { url, headers, body } = target.request(i);
  const startedAt = performance.now();
  const chunks: number[] = [];
  let status = 0;
  let finished = false;
  let failure: string | null = null;
  const signal = AbortSignal.timeout(timeoutMs);
  try {
    const response = await request(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'text/event-stream', ...headers },
      body,
      dispatcher: target.dispatcher,
      signal,
    });
    status = response.statusCode;
    if (status !== 200) {
      failure = `HTTP ${status}: ${(await response.body.text()).slice(0, 200)}`;
    } else {
      let buffer = '';
      const onBlock =
        target.format === 'app'
          ? (block: string, at: number) => {
              // "event: <name>\ndata: <json>"
              if (block.startsWith('event: delta\n')) {
                if (!block.endsWith('"content":""}')) chunks.push(at);
              } else if (block.startsWith('event: done\n')) finished = true;
              else if (block.startsWith('event: error\n')) failure ??= block.slice(13, 300);
            }
          : (block: string, at: number) => {
              if (!block.startsWith('data: ')) return; // ": OPENROUTER PROCESSING"
              const data = block.slice(6);
              if (data === '[DONE]') {
                finished = true;
                return;
              }
              const chunk = JSON.parse(data) as {
                error?: { message?: string };
                choices?: Array<{ delta?: { content?: string } }>;
              };
              if (chunk.error) failure ??= chunk.error.message ?? 'error chunk';
              else if (chunk.choices?.[0]?.delta?.content) chunks.push(at);
            };
      await new Promise<void>((resolve, reject) => {
        response.body.setEncoding('utf8');
        response.body.on('data', (text: string) => {
          const at = performance.now();
          buffer += text;
          let end: number;
          while ((end = buffer.indexOf('\n\n')) !== -1) {
            onBlock(buffer.slice(0, end), at);
            buffer = buffer.slice(end + 2);
          }
        });
        response.body.on('end', resolve);
        response.body.on('error', reject);
      });
    }
  } catch (error) {
    failure ??= error instanceof Error ? `${error.name}: ${error.message}` : String(error);
  }
  if (failure === null && !finished) failure = 'stream ended without done';
  if (failure === null && chunks.length !== expectedChunks) {
    failure = `${chunks.length} content chunks instead of ${expectedChunks}`;
  }
  return {
    ok: failure === null,
    error: failure,
    status,
    startedAt,
    chunks,
    endedAt: performance.now(),
  };
}

/** A client connection pool without limits, for thousands of concurrent streams. */
export function loadAgent(tls?: { ca: string }): Agent {
  return new Agent({
    connections: null,
    pipelining: 1,
    headersTimeout: 300_000,
    bodyTimeout: 0,
    keepAliveTimeout: 30_000,
    connect: tls ? { ca: tls.ca, servername: 'localhost' } : {},
  });
}

/**
 * Opens `count` keep-alive connections along the target's path (count concurrent cheap GETs),
 * so a measured run times the relay, not TCP and TLS handshakes piling up in listen queues.
 */
export async function openConnections(target: StreamTarget, count: number): Promise<number> {
  let failed = 0;
  const batch = 200;
  const inFlight: Array<Promise<void>> = [];
  for (let i = 0; i < count; i++) {
    inFlight.push(
      request(target.warmUrl, { dispatcher: target.dispatcher })
        .then((r) => r.body.dump())
        .catch(() => {
          failed++;
        }),
    );
    // All of them open at once (so each needs its own connection), started in batches.
    if (inFlight.length % batch === 0) await new Promise((r) => setTimeout(r, 20));
  }
  await Promise.all(inFlight);
  return failed;
}

export interface Load {
  results: StreamResult[];
  maxInFlight: number;
}

/**
 * `concurrency` slots, each sending `perSlot` streams one after another. Slots start spread
 * over `rampMs` (about one stream's length), so the concurrency is held steady rather than
 * arriving as a single burst.
 */
export async function runLoad(
  target: StreamTarget,
  o: {
    concurrency: number;
    perSlot: number;
    rampMs: number;
    expectedChunks: number;
    firstIndex?: number;
  },
): Promise<Load> {
  const results: StreamResult[] = [];
  let inFlight = 0;
  let maxInFlight = 0;
  const base = o.firstIndex ?? 0;
  await Promise.all(
    Array.from({ length: o.concurrency }, async (_, slot) => {
      if (o.concurrency > 1) {
        await new Promise((r) => setTimeout(r, (slot * o.rampMs) / o.concurrency));
      }
      for (let round = 0; round < o.perSlot; round++) {
        inFlight++;
        maxInFlight = Math.max(maxInFlight, inFlight);
        results.push(
          await runStream(target, base + slot + round * o.concurrency, o.expectedChunks),
        );
        inFlight--;
      }
    }),
  );
  return { results, maxInFlight };
}
