import type { FastifyBaseLogger } from 'fastify';
import { isAppError, type ErrorCode } from '../errors.js';
import type { ChatRequest, OpenRouterClient, Source, Usage } from '../openrouter/types.js';
import type { GenerationEvent, GenerationListener, UsageData } from './events.js';
import type { PartialFlusher } from './flusher.js';
import type { ChatMetrics } from './metrics.js';
import type { FinishedGeneration } from './repo.js';
import { promptCharacters, settleUsage } from '../usage/figures.js';

export interface GenerationDeps {
  openrouter: OpenRouterClient;
  /** Commits the final row (batched with other answers' by the chat service). */
  saveFinished: (finished: FinishedGeneration) => Promise<void>;
  flusher: PartialFlusher;
  log: FastifyBaseLogger;
  metrics: ChatMetrics;
}

/** stop: the user's stop; shutdown: the server's; discard: the turn could not be saved. */
type EndReason = 'stop' | 'shutdown' | 'discard';

/** Sources kept per answer: a bound on what one model output can make us store. */
const MAX_SOURCES = 50;

const interruptedText = 'The server shut down while this answer was being written.';

/**
 * One upstream call and the answer it writes. It runs independently of the HTTP request
 * that started it: listeners come and go, the answer is saved either way.
 */
export class Generation {
  readonly done: Promise<void>;
  private content = '';
  private reasoning = '';
  /** The text a continuation started from: not this call's output (estimates leave it out). */
  private readonly initialLength: { content: number; reasoning: number };
  /** The web pages cited so far, each URL once, in the order first cited. */
  private sources: Source[] = [];
  /** The last usage told to listeners, replayed to whoever attaches later. */
  private usageSoFar: UsageData | null = null;
  /** Set when the final event (done or error) is sent: nothing more will come. */
  private ended = false;
  private readonly listeners = new Set<GenerationListener>();
  /**
   * The events sent before anyone attached (the upstream call starts while the turn commits):
   * the first listener gets them one by one, as they came, rather than merged. Bounded, in
   * case nobody attaches; past the bound the snapshot takes over.
   */
  private early: GenerationEvent[] | null = [];
  private readonly controller = new AbortController();
  private endReason: EndReason | null = null;
  private resolveDone!: () => void;
  /** Whether the answer's row is committed: partial saves before that would update nothing. */
  private persisted = false;

  constructor(
    readonly id: string,
    readonly userId: string,
    /** Null for a temporary chat's answer (temporary.ts): stored nowhere but its figures. */
    readonly conversationId: string | null,
    /** The answer's message; for a temporary answer, an id of this run only, never stored. */
    readonly messageId: string,
    readonly model: string,
    private readonly request: ChatRequest,
    private readonly deps: GenerationDeps,
    /** Settles when the turn's rows are committed; a rejection discards the answer. */
    private readonly saved: Promise<void>,
    /**
     * The answer's text so far when this call continues it (an answer cut off at the token
     * limit): the new text is appended, and saved and replayed with it.
     */
    initial: { content: string; reasoning: string | null; sources?: Source[] | null } | null = null,
  ) {
    this.content = initial?.content ?? '';
    this.reasoning = initial?.reasoning ?? '';
    this.initialLength = { content: this.content.length, reasoning: this.reasoning.length };
    this.sources = initial?.sources ?? [];
    this.done = new Promise((resolve) => (this.resolveDone = resolve));
    saved.then(
      () => {
        this.persisted = true;
        if (this.content !== '' || this.reasoning !== '') this.markPartial();
      },
      () => undefined,
    );
  }

  private markPartial(): void {
    this.deps.flusher.mark(this.messageId, this.content, this.reasoning || null);
  }

  /** An answer of a temporary chat: no message, no conversation, nobody reattaches to it. */
  get temporary(): boolean {
    return this.conversationId === null;
  }

  /** True until the final event (done or error) has been sent to the listeners. */
  get running(): boolean {
    return !this.ended;
  }

  /**
   * What was written so far, as events to send first, and a subscription to what comes
   * next, taken at one instant: listeners are called synchronously from the run loop, right
   * after the text grows, so nothing can come between reading the past and subscribing. The
   * past events followed by every later one give exactly the final text: no gap, no
   * duplicate. The first listener gets the events as they were sent; a later one gets the
   * text so far as one `reasoning` and one `delta`, and the last `usage` (only the text is
   * kept, not past events). Null once the generation has ended.
   */
  attach(listener: GenerationListener): { past: GenerationEvent[]; detach: () => void } | null {
    if (this.ended) return null;
    this.listeners.add(listener);
    const past = this.early ?? this.snapshotEvents();
    this.early = null;
    return { past, detach: () => this.listeners.delete(listener) };
  }

  private snapshotEvents(): GenerationEvent[] {
    const events: GenerationEvent[] = [];
    if (this.reasoning !== '')
      events.push({ event: 'reasoning', data: { content: this.reasoning } });
    if (this.content !== '') events.push({ event: 'delta', data: { content: this.content } });
    if (this.sources.length > 0) {
      events.push({ event: 'sources', data: { sources: this.sources } });
    }
    if (this.usageSoFar !== null) events.push({ event: 'usage', data: this.usageSoFar });
    return events;
  }

  /** Aborts the upstream call; what was written so far is kept (status stopped, or interrupted at shutdown). */
  abort(reason: EndReason): void {
    this.endReason ??= reason;
    this.controller.abort();
  }

  start(requestId?: string): void {
    void this.run(requestId).finally(() => this.resolveDone());
  }

  private emit(event: GenerationEvent): void {
    if (this.early !== null) {
      if (this.early.length < 1000) this.early.push(event);
      else this.early = null;
    }
    for (const listener of this.listeners) listener(event);
  }

  private async run(requestId: string | undefined): Promise<void> {
    const { openrouter, flusher, log, metrics } = this.deps;
    metrics.generationStarted(this.model);
    const startedAt = performance.now();
    let firstTokenAt: number | null = null;
    let usage: Usage | null = null;
    let finishReason: string | null = null;
    let upstreamId: string | null = null;
    let provider: string | null = null;
    /** The model that answered, as the chunks name it: a fallback when the first one failed. */
    let answeredModel: string | null = null;
    let failure: { code: string; message: string } | null = null;

    try {
      const stream = openrouter.streamChat(this.request, {
        signal: this.controller.signal,
        requestId,
      });
      for await (const event of stream) {
        switch (event.type) {
          case 'meta':
            upstreamId = event.upstreamId;
            provider = event.provider ?? provider;
            answeredModel = event.model;
            break;
          case 'delta':
          case 'reasoning':
            if (event.content === '') break;
            firstTokenAt ??= performance.now();
            if (event.type === 'delta') this.content += event.content;
            else this.reasoning += event.content;
            if (this.persisted) this.markPartial();
            this.emit({ event: event.type, data: { content: event.content } });
            break;
          case 'usage':
            usage = event.usage;
            this.usageSoFar = {
              promptTokens: usage.promptTokens,
              completionTokens: usage.completionTokens,
              reasoningTokens: usage.reasoningTokens,
              cost: usage.cost,
            };
            this.emit({ event: 'usage', data: this.usageSoFar });
            break;
          case 'sources': {
            const known = new Set(this.sources.map((s) => s.url));
            const added = event.sources.filter((s) => !known.has(s.url) && known.add(s.url));
            if (added.length === 0 || this.sources.length >= MAX_SOURCES) break;
            this.sources = [...this.sources, ...added].slice(0, MAX_SOURCES);
            this.emit({ event: 'sources', data: { sources: this.sources } });
            break;
          }
          case 'finish':
            finishReason = event.finishReason;
            break;
        }
      }
    } catch (error) {
      if (this.endReason === null) {
        if (isAppError(error)) {
          failure = { code: error.code, message: error.message };
        } else {
          log.error({ err: error, generationId: this.id }, 'generation failed');
          failure = { code: 'internal', message: 'The answer failed because of a server error.' };
        }
      }
    }

    const upstreamErrorCode = failure?.code ?? null;
    if (failure) finishReason ??= 'error';
    const status: FinishedGeneration['status'] =
      failure || this.endReason === 'discard'
        ? 'error'
        : this.endReason === 'stop'
          ? 'stopped'
          : this.endReason === 'shutdown'
            ? 'interrupted'
            : 'complete';
    flusher.forget(this.messageId);
    // Whole milliseconds, as saved and as the `done` event tells them.
    const timeToFirstTokenMs = firstTokenAt === null ? null : Math.round(firstTokenAt - startedAt);
    const durationMs = Math.round(performance.now() - startedAt);
    // When the turn could not be saved nothing was accepted (the caller got the save's
    // error) and there is no row to finish.
    const discarded = await this.saved.then(
      () => false,
      () => true,
    );
    // Figures the stream lacked (a stopped or failed answer, a server without usage) are
    // estimated from the text, marked so, and asked of OpenRouter once saved (usage/fill.ts).
    const settled = settleUsage({
      usage,
      upstreamId,
      promptCharacters: promptCharacters(this.request.messages),
      completionCharacters: this.content.length - this.initialLength.content,
      reasoningCharacters: this.reasoning.length - this.initialLength.reasoning,
    });
    try {
      if (!discarded)
        await this.deps.saveFinished({
          userId: this.userId,
          messageId: this.messageId,
          generationId: this.id,
          conversationId: this.conversationId,
          content: this.content,
          reasoning: this.reasoning || null,
          sources: this.sources.length > 0 ? this.sources : null,
          status,
          error: failure?.message ?? (status === 'interrupted' ? interruptedText : null),
          errorCode: failure?.code ?? null,
          upstreamId,
          provider,
          answeredModel,
          usage: settled.usage,
          usageSource: settled.source,
          timeToFirstTokenMs,
          durationMs,
          finishReason,
          now: new Date().toISOString(),
        });
    } catch (error) {
      // The partial text is still in the last flush; the row stays `streaming` and is
      // marked interrupted at the next start.
      log.error({ err: error, generationId: this.id }, 'saving the finished answer failed');
      failure ??= { code: 'internal', message: 'The answer could not be saved.' };
    }

    log.debug(
      {
        generationId: this.id,
        model: this.model,
        status,
        errorCode: upstreamErrorCode,
        finishReason,
        durationMs,
      },
      'generation ended',
    );
    metrics.generationEnded({
      model: this.model,
      status,
      upstreamErrorCode,
      usage,
      timeToFirstTokenSeconds: timeToFirstTokenMs === null ? null : timeToFirstTokenMs / 1000,
      durationSeconds: durationMs / 1000,
    });

    // Only now, with the final row saved: whoever finds it ended (a reattach answered 404)
    // loads the saved message and finds it final.
    this.ended = true;
    if (discarded) this.listeners.clear();
    if (failure) this.emit({ event: 'error', data: failure });
    else if (status === 'interrupted') {
      this.emit({
        event: 'error',
        data: { code: 'server.shutting_down' satisfies ErrorCode, message: interruptedText },
      });
    } else {
      this.emit({
        event: 'done',
        data: {
          messageId: this.messageId,
          finishReason,
          status: status === 'stopped' ? 'stopped' : 'complete',
          model: answeredModel ?? this.model,
          provider,
          timeToFirstTokenMs,
          durationMs,
        },
      });
    }
    this.listeners.clear();
  }
}
