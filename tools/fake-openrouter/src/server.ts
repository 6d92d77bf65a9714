/**
 * A FAKE OpenRouter server (node:http only) for tests and local development.
 * Routes: GET /api/v1/models, GET /api/v1/key, POST /api/v1/chat/completions; anything else is
 * a 404 JSON error.
 * See README.md for the scenarios.
 */
import { randomBytes } from 'node:crypto';
import { EventEmitter } from 'node:events';
import {
  createServer,
  type IncomingHttpHeaders,
  type IncomingMessage,
  type ServerResponse,
} from 'node:http';
import type { AddressInfo } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';

import { errorBody, scenarioError, type ErrorBody } from './errors.js';
import { bearerToken, createFakeKeys, type FakeKeyInfo } from './keys.js';
import { defaultModels, fallbackPricing, type FakeModel } from './models.js';
import { checkParts, describeParts, hasImages, receivedParts, type ReceivedPart } from './parts.js';
import { parsePreferences, route } from './routing.js';
import { validateSampling } from './sampling.js';
import {
  answerPieces,
  citations,
  continuationPieces,
  findDirective,
  isTitleRequest,
  titlePieces,
  makePlan,
  parseOptions,
  reasoningPieces,
  selectScenario,
  type Plan,
  type Scenario,
} from './scenarios.js';
import {
  annotationsChunk,
  contentChunk,
  dataEvent,
  DONE_EVENT,
  errorChunk,
  finishChunk,
  PROCESSING_COMMENT,
  reasoningChunk,
  roleChunk,
  usageChunk,
  type ChunkContext,
  type UsageBody,
} from './sse.js';
import { computeUsage } from './usage.js';
import { createGenerationStore } from './generations.js';

export type { FakeKeyInfo } from './keys.js';
export { INVALID_KEY_PREFIX } from './keys.js';
export type { FakeModel } from './models.js';
export type { ReceivedPart } from './parts.js';
export type { Scenario, ScenarioOptions } from './scenarios.js';

export interface RecordedRequest {
  method: string;
  /** Path without the query string, e.g. `/api/v1/chat/completions`. */
  path: string;
  /** Lower-cased header names, as node:http gives them. */
  headers: IncomingHttpHeaders;
  /** The parsed JSON body, or null when there was none or it was not JSON. */
  body: unknown;
  /**
   * The image and file content parts of a chat completion's messages, decoded (media type,
   * file name, bytes, SHA-256): what a test checks was sent. Empty for other requests.
   */
  parts: ReceivedPart[];
  receivedAt: number;
}

export type StreamEnd = 'complete' | 'client-closed' | 'error' | 'dropped' | 'reset' | 'truncated';

export interface StreamRecord {
  requestIndex: number;
  model: string;
  /** The provider that served it (see routing.ts). */
  provider: string;
  scenario: Scenario;
  /** `data:` JSON chunks written (not counting comments or `[DONE]`). */
  chunksSent: number;
  endedBy: StreamEnd | null;
  closedAt: number | null;
}

export interface FakeOpenRouter {
  /** Base URL to use as OPENROUTER_BASE_URL, e.g. http://127.0.0.1:54321/api/v1 */
  url: string;
  requests: RecordedRequest[];
  streams: StreamRecord[];
  /** Resolves once streams[index] exists and its connection has closed (for any reason). */
  waitForStreamClosed(index: number, timeoutMs?: number): Promise<StreamRecord>;
  /** Sockets open to the fake right now, idle keep-alive ones included. */
  openConnections(): Promise<number>;
  /**
   * Makes `key` valid (again) and sets what `GET /api/v1/key` reports for it. Without a call,
   * any non-empty key is valid (with no limit), except those starting with `sk-or-v1-invalid`.
   */
  setKey(key: string, info?: FakeKeyInfo): void;
  /** Makes `key` invalid: every authenticated route answers 401 `User not found.` */
  revokeKey(key: string): void;
  close(): Promise<void>;
}

export interface FakeOpenRouterOptions {
  /** 0 (default) picks a free port. */
  port?: number;
  host?: string;
  /** Replaces the default catalog. */
  models?: FakeModel[];
  /** Called with one line per request (the CLI prints them). */
  log?: (line: string) => void;
}

const API = '/api/v1';
const MAX_BODY_BYTES = 10 * 1024 * 1024;

export async function startFakeOpenRouter(
  options: FakeOpenRouterOptions = {},
): Promise<FakeOpenRouter> {
  const models = options.models ?? defaultModels;
  const host = options.host ?? '127.0.0.1';
  const requests: RecordedRequest[] = [];
  const streams: StreamRecord[] = [];
  const changes = new EventEmitter();
  changes.setMaxListeners(0);
  /** For `failfirst`: requests seen per last user message. */
  const failuresByMessage = new Map<string, number>();
  const keys = createFakeKeys();
  const generations = createGenerationStore();

  const server = createServer((req, res) => {
    handle(req, res).catch((error: unknown) => {
      options.log?.(`fake-openrouter: handler failed: ${String(error)}`);
      if (!res.headersSent) sendJson(res, 500, errorBody(500, 'Fake server failure.'));
      else res.destroy();
    });
  });

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const method = req.method ?? 'GET';
    const path = new URL(req.url ?? '/', 'http://fake').pathname.replace(/\/+$/, '') || '/';
    const raw = await readBody(req);
    const body = parseJson(raw);
    const messages = chatMessages(body);
    const record: RecordedRequest = {
      method,
      path,
      headers: req.headers,
      body,
      parts: messages ? receivedParts(messages) : [],
      receivedAt: Date.now(),
    };
    const requestIndex = requests.push(record) - 1;
    options.log?.(`${method} ${path}`);

    if (raw === null) {
      sendJson(res, 413, errorBody(413, 'Request body too large.'));
    } else if (method === 'GET' && path === `${API}/models`) {
      sendJson(res, 200, { data: models });
    } else if (method === 'GET' && path === `${API}/key`) {
      currentKey(req, res);
    } else if (method === 'GET' && path === `${API}/generation`) {
      getGeneration(req, res);
    } else if (method === 'POST' && path === `${API}/chat/completions`) {
      await chatCompletions(req, res, record, requestIndex);
    } else {
      sendJson(res, 404, errorBody(404, `Not Found: ${method} ${path} (fake OpenRouter)`));
    }
  }

  /**
   * The key of the request when it is valid; else answers 401 as OpenRouter does (no key, or a
   * key it does not know) and returns null.
   */
  function authenticate(req: IncomingMessage, res: ServerResponse): string | null {
    const key = bearerToken(req.headers.authorization);
    if (key === null) {
      sendJson(res, 401, errorBody(401, 'No auth credentials found'));
      return null;
    }
    if (!keys.isValid(key)) {
      sendJson(res, 401, errorBody(401, 'User not found.'));
      return null;
    }
    return key;
  }

  /**
   * GET /api/v1/generation?id=gen-…: a completion's cost, tokens and timings (generations.ts),
   * for the key that made it; 404 until its statistics are ready (`statsdelay`) and for anyone
   * else's id.
   */
  function getGeneration(req: IncomingMessage, res: ServerResponse): void {
    const key = authenticate(req, res);
    if (key === null) return;
    const id = new URL(req.url ?? '/', 'http://fake').searchParams.get('id');
    if (!id) {
      sendJson(res, 400, errorBody(400, 'Invalid request: "id" is required.'));
      return;
    }
    const data = generations.lookup(id, key);
    if (data === null) sendJson(res, 404, errorBody(404, 'Generation not found'));
    else sendJson(res, 200, { data });
  }

  /** GET /api/v1/key: the key of the request, its limit and what it has spent. */
  function currentKey(req: IncomingMessage, res: ServerResponse): void {
    const key = authenticate(req, res);
    if (key !== null) sendJson(res, 200, { data: keys.describe(key) });
  }

  async function chatCompletions(
    req: IncomingMessage,
    res: ServerResponse,
    record: RecordedRequest,
    requestIndex: number,
  ): Promise<void> {
    const startedAt = Date.now();
    const apiKey = authenticate(req, res);
    if (apiKey === null) return;
    const invalid = validateChatBody(record.body);
    if (invalid !== null) {
      sendJson(res, 400, invalid);
      return;
    }
    const body = record.body as ChatBody;
    const routing = parsePreferences(body.provider);
    if ('error' in routing) {
      sendJson(res, 400, routing.error);
      return;
    }
    const lastUser = lastUserText(body.messages);
    // The answer also names the images and files the last question carried (decoded here).
    const lastUserIndex = body.messages.findLastIndex((m) => m.role === 'user');
    const echoed = lastUser + describeParts(record.parts, lastUserIndex);
    const needsImages = hasImages(body.messages);
    const title = isTitleRequest(
      body.messages.map((m) => ({ role: m.role, text: messageText(m) })),
    );
    const firstUser = messageText(
      body.messages.find((m) => m.role === 'user') ?? { role: 'user', content: '' },
    );
    const options = {
      ...findDirective(lastUser),
      ...parseOptions(header(req, 'x-fake-options') ?? ''),
    };
    const scenarioHeader = header(req, 'x-fake-scenario');
    const primary = makePlan(selectScenario(scenarioHeader, modelsOf(body)[0] ?? ''), options);

    // Before the status line: the client sees nothing at all, as with a hung upstream.
    if (primary.headerWait > 0) {
      const gone = new AbortController();
      res.on('close', () => gone.abort());
      await sleep(primary.headerWait, undefined, { signal: gone.signal }).catch(() => undefined);
      if (gone.signal.aborted) return;
    }
    let failing = false;
    if (primary.failFirst > 0) {
      const seen = (failuresByMessage.get(lastUser) ?? 0) + 1;
      failuresByMessage.set(lastUser, seen);
      failing = seen <= primary.failFirst;
    }

    // OpenRouter's model fallbacks: `model` first, then `models` in order; a model that fails
    // before its first byte hands the request to the next one, and the chunks name the model
    // that answered. Account errors (401, 402) are not the model's and end the request.
    // Provider routing picks the endpoint of each model; a model none of whose endpoints the
    // preferences allow fails like a model that is down, and the next one is tried.
    let lastError: { status: number; body: ErrorBody; headers: Record<string, string> } | null =
      null;
    for (const [i, modelId] of modelsOf(body).entries()) {
      const plan = i === 0 ? primary : makePlan(selectScenario(undefined, modelId), options);
      const model = models.find((m) => m.id === modelId);
      // As on OpenRouter, a model that takes no images has no endpoint for a request with one.
      if (needsImages && model && !model.architecture.input_modalities.includes('image')) {
        lastError = {
          status: 404,
          body: errorBody(404, 'No endpoints found that support image input'),
          headers: {},
        };
        continue;
      }
      const routed = route(modelId, model?.pricing ?? fallbackPricing, routing.preferences);
      if ('status' in routed) {
        lastError = { status: routed.status, body: routed.body, headers: {} };
        continue;
      }
      const provider = routed.endpoint.name;
      const failStatus =
        plan.scenario === 'error' ? plan.status : i === 0 && failing ? plan.status : null;
      if (failStatus !== null) {
        const failure = scenarioError(failStatus, modelId, provider, primary.retryAfter);
        lastError = { status: failStatus, ...failure };
        if (failStatus === 401 || failStatus === 402) break;
        continue;
      }
      const ctx: ChunkContext = {
        id: generationId(),
        provider,
        model: modelId,
        created: Math.floor(Date.now() / 1000),
      };
      const turn: Turn = {
        plan,
        ctx,
        // A title request is answered with a title (scenarios.ts fakeTitle), one word a chunk.
        content: title
          ? titlePieces(firstUser)
          : continuationPieces(answerPieces(echoed, plan.chunks), prefillOf(body.messages)),
        reasoning: title ? [] : reasoningPieces(lastUser, plan.reasoningChunks),
        lastUser,
        inputChars: body.messages.reduce((sum, m) => sum + messageText(m).length, 0),
        pricing: routed.pricing,
        apiKey,
        startedAt,
        firstTokenAt: null,
        charged: null,
      };
      if (body.stream === true) await stream(res, turn, requestIndex);
      else await complete(res, turn);
      return;
    }
    if (lastError !== null) sendJson(res, lastError.status, lastError.body, lastError.headers);
  }

  /**
   * The usage of an answer of `contentChunks` content and `reasoningChunks` reasoning chunks,
   * charged to the request's key and recorded for `GET /generation` (once per completion: the
   * second call returns the first's usage).
   */
  function usageOf(
    turn: Turn,
    contentChunks: number,
    end: { finishReason: string | null; cancelled: boolean; streamed: boolean },
    reasoningChunks = turn.reasoning.length,
  ) {
    if (turn.charged) return turn.charged;
    const usage = computeUsage({
      inputChars: turn.inputChars,
      contentTokens: contentChunks,
      reasoningTokens: reasoningChunks,
      cachedTokens: turn.plan.cached,
      pricing: turn.pricing,
    });
    keys.addUsage(turn.apiKey, usage.cost);
    turn.charged = usage;
    const now = Date.now();
    generations.record(
      {
        id: turn.ctx.id,
        model: turn.ctx.model,
        provider: turn.ctx.provider,
        usage,
        streamed: end.streamed,
        cancelled: end.cancelled,
        finishReason: end.finishReason,
        latencyMs: (turn.firstTokenAt ?? now) - turn.startedAt,
        generationMs: now - (turn.firstTokenAt ?? now),
        createdAt: new Date(turn.startedAt),
      },
      turn.apiKey,
      turn.plan.statsDelay,
    );
    return usage;
  }

  /** The usage chunk's object: as charged, less what the `omitcost` option leaves out. */
  function reportedUsage(turn: Turn, usage: UsageBody): UsageBody | Omit<UsageBody, 'cost'> {
    if (turn.plan.omitCost === 0) return usage;
    const rest: Partial<UsageBody> = { ...usage };
    delete rest.cost;
    return rest as Omit<UsageBody, 'cost'>;
  }

  async function stream(res: ServerResponse, turn: Turn, requestIndex: number): Promise<void> {
    const { plan, ctx } = turn;
    const record: StreamRecord = {
      requestIndex,
      model: ctx.model,
      provider: ctx.provider,
      scenario: plan.scenario,
      chunksSent: 0,
      endedBy: null,
      closedAt: null,
    };
    streams.push(record);
    changes.emit('change');

    const stop = new AbortController();
    let ending: StreamEnd | null = null;
    let contentSent = 0;
    let reasoningSent = 0;
    res.on('close', () => {
      if (ending === 'dropped' || ending === 'reset') record.endedBy = ending;
      else if (ending !== null && res.writableFinished) record.endedBy = ending;
      else record.endedBy = 'client-closed';
      record.closedAt = Date.now();
      // Whatever was generated is charged and on record, as OpenRouter does for a cancelled
      // or broken stream (a finished one was recorded with its usage chunk).
      usageOf(
        turn,
        contentSent,
        {
          finishReason: null,
          cancelled: record.endedBy === 'client-closed',
          streamed: true,
        },
        reasoningSent,
      );
      stop.abort();
      changes.emit('change');
    });

    res.writeHead(200, {
      'content-type': 'text/event-stream',
      'cache-control': 'no-cache',
      connection: 'keep-alive',
      'x-generation-id': ctx.id,
      'x-fake-openrouter': 'true',
    });
    const write = (text: string): Promise<void> =>
      new Promise((resolve) => {
        if (stop.signal.aborted || res.destroyed) return resolve();
        res.write(text, () => resolve());
      });
    const send = async (payload: unknown): Promise<void> => {
      if (stop.signal.aborted) return;
      await write(dataEvent(payload));
      record.chunksSent++;
    };
    const pause = (ms: number) => pauseWithKeepAlive(ms, plan.keepalive, stop.signal, write);

    await write(PROCESSING_COMMENT);
    await pause(plan.wait);
    await write(PROCESSING_COMMENT);
    await send(roleChunk(ctx));
    for (const [i, text] of turn.reasoning.entries()) {
      await pause(plan.delayFor(i));
      turn.firstTokenAt ??= Date.now();
      await send(reasoningChunk(ctx, text));
      if (!stop.signal.aborted) reasoningSent++;
    }
    /** A `data:` event whose JSON is cut off; counted in chunksSent. */
    const sendMalformed = async (): Promise<void> => {
      if (stop.signal.aborted) return;
      await write(
        `data: {"id":"${ctx.id}","object":"chat.completion.chunk","choices":[{"delta":{"content":"bro\n\n`,
      );
      record.chunksSent++;
    };
    const cut = CUTS_SHORT.has(plan.scenario);
    const whole = Math.min(turn.content.length, plan.limit);
    const sendCount = cut ? Math.min(plan.after, whole) : whole;
    for (let i = 0; i < sendCount; i++) {
      if (plan.scenario === 'malformed' && i === plan.after) await sendMalformed();
      await pause(plan.delayFor(i));
      turn.firstTokenAt ??= Date.now();
      await send(contentChunk(ctx, turn.content[i] ?? ''));
      if (!stop.signal.aborted) contentSent++;
    }
    if (plan.scenario === 'malformed' && plan.after >= sendCount) await sendMalformed();
    if (stop.signal.aborted) return;

    switch (plan.scenario) {
      case 'midstream-error':
        usageOf(
          turn,
          contentSent,
          { finishReason: 'error', cancelled: false, streamed: true },
          reasoningSent,
        );
        await send(errorChunk(ctx, 'Provider disconnected unexpectedly (fake mid-stream error).'));
        ending = 'error';
        res.end();
        return;
      case 'drop':
        ending = 'dropped';
        res.socket?.destroy();
        return;
      case 'reset':
        // A TCP RST instead of a FIN: the client reads ECONNRESET, as when a proxy dies.
        ending = 'reset';
        res.socket?.resetAndDestroy();
        return;
      case 'stall':
        // Silence, not even keep-alive comments, until the client gives up.
        await new Promise<void>((resolve) => {
          if (stop.signal.aborted) resolve();
          else stop.signal.addEventListener('abort', () => resolve(), { once: true });
        });
        return;
      case 'no-done':
        // A clean end of the body with neither a finish_reason nor [DONE].
        ending = 'truncated';
        res.end();
        return;
      default:
        break;
    }
    if (plan.sources > 0) {
      const answer = turn.content.slice(0, sendCount).join('');
      await send(annotationsChunk(ctx, citations(turn.lastUser, answer, plan.sources)));
    }
    const limited = plan.scenario === 'length' || sendCount < turn.content.length;
    const finishReason = limited ? 'length' : 'stop';
    await send(finishChunk(ctx, finishReason));
    const usage = usageOf(turn, sendCount, { finishReason, cancelled: false, streamed: true });
    // `omitusage`: no usage chunk at all (the backend then asks GET /generation).
    if (plan.omitUsage === 0) await send(usageChunk(ctx, reportedUsage(turn, usage)));
    await write(DONE_EVENT);
    if (stop.signal.aborted) return;
    ending = 'complete';
    res.end();
  }

  async function complete(res: ServerResponse, turn: Turn): Promise<void> {
    const { plan, ctx } = turn;
    const closed = new AbortController();
    res.on('close', () => closed.abort());
    let total = plan.wait;
    for (let i = 0; i < turn.content.length + turn.reasoning.length; i++) total += plan.delayFor(i);
    turn.firstTokenAt = Date.now() + plan.wait - total;
    await sleep(total, undefined, { signal: closed.signal }).catch(() => undefined);
    if (closed.signal.aborted) return;
    switch (plan.scenario) {
      case 'drop':
        res.socket?.destroy();
        return;
      case 'reset':
        res.socket?.resetAndDestroy();
        return;
      case 'stall':
        await new Promise<void>((resolve) => {
          if (closed.signal.aborted) resolve();
          else closed.signal.addEventListener('abort', () => resolve(), { once: true });
        });
        return;
      case 'malformed': {
        const text = `{"id":"${ctx.id}","object":"chat.completion","choices":[{"message":{"content":"bro`;
        res.writeHead(200, {
          'content-type': 'application/json',
          'content-length': Buffer.byteLength(text),
          'x-fake-openrouter': 'true',
        });
        res.end(text);
        return;
      }
      default:
        break;
    }
    const whole = Math.min(turn.content.length, plan.limit);
    const sent = plan.scenario === 'midstream-error' ? Math.min(plan.after, whole) : whole;
    const failed = plan.scenario === 'midstream-error';
    const finish = failed
      ? 'error'
      : plan.scenario === 'length' || sent < turn.content.length
        ? 'length'
        : plan.scenario === 'no-done'
          ? null
          : 'stop';
    const reasoning = turn.reasoning.join('');
    sendJson(res, 200, {
      id: ctx.id,
      provider: ctx.provider,
      model: ctx.model,
      object: 'chat.completion',
      created: ctx.created,
      choices: [
        {
          logprobs: null,
          finish_reason: finish,
          native_finish_reason: finish,
          index: 0,
          message: {
            role: 'assistant',
            content: turn.content.slice(0, sent).join(''),
            refusal: null,
            ...(plan.sources > 0
              ? {
                  annotations: citations(
                    turn.lastUser,
                    turn.content.slice(0, sent).join(''),
                    plan.sources,
                  ),
                }
              : {}),
            reasoning: reasoning === '' ? null : reasoning,
            ...(reasoning === ''
              ? {}
              : {
                  reasoning_details: [
                    { type: 'reasoning.text', text: reasoning, format: 'unknown', index: 0 },
                  ],
                }),
          },
        },
      ],
      ...(failed
        ? {
            error: {
              code: 'server_error',
              message: 'Provider disconnected unexpectedly (fake mid-stream error).',
            },
          }
        : plan.omitUsage === 1
          ? {}
          : {
              usage: reportedUsage(
                turn,
                usageOf(turn, sent, { finishReason: finish, cancelled: false, streamed: false }),
              ),
            }),
    });
  }

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const { port } = server.address() as AddressInfo;
  const urlHost = host.includes(':') ? `[${host}]` : host;
  let closing: Promise<void> | undefined;

  return {
    url: `http://${urlHost}:${port}${API}`,
    requests,
    streams,
    waitForStreamClosed(index, timeoutMs = 2000) {
      return new Promise((resolve, reject) => {
        const check = (): boolean => {
          const record = streams[index];
          if (record?.closedAt == null) return false;
          cleanup();
          resolve(record);
          return true;
        };
        const timer = setTimeout(() => {
          cleanup();
          const record = streams[index];
          reject(
            new Error(
              `fake-openrouter: stream ${index} did not close within ${timeoutMs} ms ` +
                `(${record ? `endedBy=${String(record.endedBy)}` : 'no such stream yet'})`,
            ),
          );
        }, timeoutMs);
        const cleanup = (): void => {
          clearTimeout(timer);
          changes.off('change', check);
        };
        changes.on('change', check);
        check();
      });
    },
    setKey: (key, info) => keys.set(key, info),
    revokeKey: (key) => keys.revoke(key),
    openConnections() {
      return new Promise<number>((resolve, reject) => {
        server.getConnections((error, count) => (error ? reject(error) : resolve(count)));
      });
    },
    close() {
      closing ??= new Promise<void>((resolve, reject) => {
        server.close((error) => (error ? reject(error) : resolve()));
        server.closeAllConnections();
      });
      return closing;
    },
  };
}

interface ChatMessageBody {
  role: string;
  content: unknown;
}

interface ChatBody {
  model?: string;
  /** OpenRouter's fallback list: tried in order after `model`. */
  models?: string[];
  messages: ChatMessageBody[];
  stream?: unknown;
  /** OpenRouter's provider routing preferences (routing.ts). */
  provider?: unknown;
}

/** Scenarios whose stream stops after `after` content chunks. */
const CUTS_SHORT: ReadonlySet<Scenario> = new Set(['midstream-error', 'drop', 'reset', 'stall']);

/** The models to try, in order: `model`, then `models`, each once (as OpenRouter does). */
function modelsOf(body: ChatBody): string[] {
  const all = [...(body.model === undefined ? [] : [body.model]), ...(body.models ?? [])];
  return [...new Set(all)];
}

interface Turn {
  plan: Plan;
  ctx: ChunkContext;
  content: string[];
  reasoning: string[];
  /** The last user message: the topic of the made-up search results. */
  lastUser: string;
  inputChars: number;
  pricing: FakeModel['pricing'];
  /** The key the request came with: what it costs is added to the key's usage. */
  apiKey: string;
  /** Date.now() when the request was received, and when its first token was sent. */
  startedAt: number;
  firstTokenAt: number | null;
  /** The usage charged for it, once it is (see usageOf). */
  charged: UsageBody | null;
}

const ROLES = new Set(['system', 'developer', 'user', 'assistant', 'tool']);

function validateChatBody(body: unknown): ErrorBody | null {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    return errorBody(400, 'Invalid JSON body: expected an object.');
  }
  const { model, models, messages } = body as Record<string, unknown>;
  if (
    models !== undefined &&
    (!Array.isArray(models) ||
      !models.every((m: unknown) => typeof m === 'string' && m.trim() !== ''))
  ) {
    return errorBody(400, 'Invalid request: "models" must be an array of model ids.');
  }
  // OpenRouter takes `model`, or `models` alone (its first entry is then the primary).
  const modelsOnly = model === undefined && Array.isArray(models) && models.length > 0;
  if (!modelsOnly && (typeof model !== 'string' || model.trim() === '')) {
    return errorBody(400, 'Invalid request: "model" is required and must be a non-empty string.');
  }
  if (!Array.isArray(messages) || messages.length === 0) {
    return errorBody(400, 'Input required: specify "prompt" or "messages"');
  }
  for (const [i, message] of messages.entries()) {
    if (typeof message !== 'object' || message === null) {
      return errorBody(400, `Invalid request: messages[${i}] must be an object.`);
    }
    const { role, content } = message as Record<string, unknown>;
    if (typeof role !== 'string' || !ROLES.has(role)) {
      return errorBody(400, `Invalid request: messages[${i}].role is not a valid role.`);
    }
    if (typeof content !== 'string' && !Array.isArray(content) && content !== null) {
      return errorBody(400, `Invalid request: messages[${i}].content must be a string or array.`);
    }
    if (Array.isArray(content)) {
      const bad = checkParts(content, i);
      if (bad !== null) return bad;
    }
  }
  return validateSampling(body as Record<string, unknown>);
}

/** Text of a message: a string, or the `text` parts of an OpenAI-style content array. */
function messageText(message: ChatMessageBody): string {
  if (typeof message.content === 'string') return message.content;
  if (!Array.isArray(message.content)) return '';
  return message.content
    .map((part: unknown) =>
      typeof part === 'object' && part !== null && 'text' in part && typeof part.text === 'string'
        ? part.text
        : '',
    )
    .join('');
}

/** The text of a trailing assistant message: the answer the model is asked to continue. */
function prefillOf(messages: ChatMessageBody[]): string | null {
  const last = messages.at(-1);
  return last?.role === 'assistant' ? messageText(last) : null;
}

/** The messages of a chat completion body, when it has a messages array of objects. */
function chatMessages(body: unknown): ChatMessageBody[] | null {
  if (typeof body !== 'object' || body === null) return null;
  const messages = (body as Record<string, unknown>)['messages'];
  if (!Array.isArray(messages)) return null;
  return messages.filter(
    (m): m is ChatMessageBody => typeof m === 'object' && m !== null && 'role' in m,
  );
}

function lastUserText(messages: ChatMessageBody[]): string {
  for (let i = messages.length - 1; i >= 0; i--) {
    const message = messages[i];
    if (message?.role === 'user') return messageText(message);
  }
  return '';
}

function header(req: IncomingMessage, name: string): string | undefined {
  const value = req.headers[name];
  return Array.isArray(value) ? value[0] : value;
}

function generationId(): string {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';
  const suffix = Array.from(randomBytes(20), (b) => alphabet[b % alphabet.length]).join('');
  return `gen-${Math.floor(Date.now() / 1000)}-${suffix}`;
}

/** Reads the whole body as text; null when it is larger than MAX_BODY_BYTES. */
async function readBody(req: IncomingMessage): Promise<string | null> {
  const parts: Buffer[] = [];
  let size = 0;
  for await (const part of req) {
    const buffer = part as Buffer;
    size += buffer.length;
    if (size > MAX_BODY_BYTES) return null;
    parts.push(buffer);
  }
  return Buffer.concat(parts).toString('utf8');
}

function parseJson(raw: string | null): unknown {
  if (raw === null || raw.trim() === '') return null;
  try {
    return JSON.parse(raw) as unknown;
  } catch {
    return null;
  }
}

function sendJson(
  res: ServerResponse,
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
): void {
  const text = JSON.stringify(body);
  res.writeHead(status, {
    'content-type': 'application/json',
    'content-length': Buffer.byteLength(text),
    'x-fake-openrouter': 'true',
    ...headers,
  });
  res.end(text);
}

/** Waits `ms`, writing a keep-alive comment every `interval` ms; returns early on abort. */
async function pauseWithKeepAlive(
  ms: number,
  interval: number,
  signal: AbortSignal,
  write: (text: string) => Promise<void>,
): Promise<void> {
  let remaining = ms;
  while (remaining > 0 && !signal.aborted) {
    const step = Math.min(remaining, interval);
    await sleep(step, undefined, { signal }).catch(() => undefined);
    remaining -= step;
    if (remaining > 0 && !signal.aborted) await write(PROCESSING_COMMENT);
  }
}
