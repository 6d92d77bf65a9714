/**
 * Scenario selection, options and the deterministic answer the fake streams.
 *
 * Scenario: header `X-Fake-Scenario`, else the model id `fake/<scenario>`, else `echo`.
 * Options: a `[fake key=value ...]` directive in the LAST user message, overridden by the header
 * `X-Fake-Options: key=value,key=value`.
 */

export const SCENARIOS = [
  'echo',
  'slow',
  'reasoning',
  'error',
  'midstream-error',
  'drop',
  'length',
  'stall',
  'reset',
  'malformed',
  'no-done',
] as const;
export type Scenario = (typeof SCENARIOS)[number];

export function isScenario(value: string): value is Scenario {
  return (SCENARIOS as readonly string[]).includes(value);
}

export interface ScenarioOptions {
  /** Number of content chunks. */
  chunks?: number;
  /** Milliseconds before each content (and reasoning) chunk. */
  delay?: number;
  /** HTTP status of the `error` scenario. */
  status?: number;
  /** Content chunks sent before `midstream-error` / `drop` / `stall` / `reset` / `malformed` act. */
  after?: number;
  /** Milliseconds before the first chunk (time to first token); the headers are already sent. */
  wait?: number;
  /** Milliseconds before the response headers are sent (a connect / first-byte timeout). */
  headerwait?: number;
  /** Seconds sent in `Retry-After` with an error status (default: 1 for 429 and 503 only). */
  retryafter?: number;
  /** The first N requests with this exact last user message fail with `status`; later ones succeed. */
  failfirst?: number;
  /** Interval of `: OPENROUTER PROCESSING` keep-alive comments during long pauses. */
  keepalive?: number;
  /** Number of reasoning chunks of the `reasoning` scenario. */
  reasoning?: number;
  /** prompt_tokens_details.cached_tokens reported in usage. */
  cached?: number;
  /**
   * The most content chunks one response may carry, as a `max_tokens` would: an answer cut
   * there finishes with `finish_reason: "length"`.
   */
  limit?: number;
  /** Web search results: `url_citation` annotations cited by the answer (as with `:online`). */
  sources?: number;
  /** 1: no usage chunk at the end of the stream (no `usage` in a JSON completion). */
  omitusage?: number;
  /** 1: the usage chunk (or object) without its `cost`. */
  omitcost?: number;
  /** Milliseconds after the completion before `GET /generation` knows it (404 until then). */
  statsdelay?: number;
}

const OPTION_LIMITS: Record<keyof ScenarioOptions, [min: number, max: number]> = {
  chunks: [1, 10_000],
  delay: [0, 60_000],
  status: [100, 599],
  after: [0, 10_000],
  wait: [0, 600_000],
  headerwait: [0, 600_000],
  retryafter: [0, 86_400],
  failfirst: [1, 1000],
  keepalive: [10, 600_000],
  reasoning: [1, 10_000],
  cached: [0, 10_000_000],
  limit: [1, 10_000],
  sources: [1, 20],
  omitusage: [0, 1],
  omitcost: [0, 1],
  statsdelay: [0, 600_000],
};

function isOptionKey(key: string): key is keyof ScenarioOptions {
  return Object.hasOwn(OPTION_LIMITS, key);
}

/** Parses `chunks=50,delay=10` or `chunks=50 delay=10`; unknown keys and bad values are ignored. */
export function parseOptions(text: string): ScenarioOptions {
  const options: ScenarioOptions = {};
  for (const pair of text.split(/[\s,;]+/)) {
    const match = /^([a-z]+)=(\d+)$/i.exec(pair.trim());
    if (!match) continue;
    const key = (match[1] ?? '').toLowerCase();
    const value = Number(match[2]);
    if (!isOptionKey(key)) continue;
    const [min, max] = OPTION_LIMITS[key];
    if (Number.isSafeInteger(value) && value >= min && value <= max) options[key] = value;
  }
  return options;
}

const DIRECTIVE = /\[fake((?:\s+[a-z]+=\d+)*)\s*\]/i;

/** Finds a `[fake chunks=50 delay=10]` directive anywhere in a message. */
export function findDirective(text: string): ScenarioOptions | null {
  const match = DIRECTIVE.exec(text);
  return match ? parseOptions(match[1] ?? '') : null;
}

export function selectScenario(header: string | undefined, model: string): Scenario {
  const fromHeader = header?.trim().toLowerCase();
  if (fromHeader && isScenario(fromHeader)) return fromHeader;
  if (model.startsWith('fake/')) {
    const name = model.slice('fake/'.length);
    if (isScenario(name)) return name;
  }
  return 'echo';
}

export interface Plan {
  scenario: Scenario;
  chunks: number;
  /** Delay before content chunk i (ms). */
  delayFor(index: number): number;
  status: number;
  after: number;
  wait: number;
  headerWait: number;
  /** Retry-After seconds for error answers; null: the status's default (1 for 429 and 503). */
  retryAfter: number | null;
  /** Requests (per last user message) that fail with `status` before the scenario runs; 0: none. */
  failFirst: number;
  keepalive: number;
  reasoningChunks: number;
  cached: number;
  /** Content chunks at most per response (finish "length" past it); Infinity: no limit. */
  limit: number;
  /** Number of url_citation annotations sent with the answer. */
  sources: number;
  /** 1: the stream ends without its usage chunk. */
  omitUsage: number;
  /** 1: the usage chunk has no `cost`. */
  omitCost: number;
  /** ms after the completion before GET /generation answers for it. */
  statsDelay: number;
}

export function makePlan(scenario: Scenario, options: ScenarioOptions): Plan {
  const slow = scenario === 'slow';
  const fixedDelay = options.delay ?? (slow ? 50 : undefined);
  return {
    scenario,
    chunks: options.chunks ?? (slow ? 40 : 8),
    // echo and friends: a small deterministic jitter of 0–5 ms, like a fast real model.
    delayFor: (index) => fixedDelay ?? (index * 7) % 6,
    status: options.status ?? 500,
    after: options.after ?? 3,
    wait: options.wait ?? 0,
    headerWait: options.headerwait ?? 0,
    retryAfter: options.retryafter ?? null,
    failFirst: options.failfirst ?? 0,
    keepalive: options.keepalive ?? 1000,
    reasoningChunks: scenario === 'reasoning' ? (options.reasoning ?? 4) : 0,
    cached: options.cached ?? 0,
    limit: options.limit ?? Infinity,
    sources: options.sources ?? 0,
    omitUsage: options.omitusage ?? 0,
    omitCost: options.omitcost ?? 0,
    statsDelay: options.statsdelay ?? 0,
  };
}

const FILLER = (
  'This answer comes from the fake OpenRouter server and every word after the echo is filler ' +
  'text that only exists so the stream has the requested number of chunks'
).split(' ');

/**
 * Splits `You said: <message>. ` plus filler words into exactly `count` pieces whose
 * concatenation is the whole answer. Deterministic for a given message and count.
 */
export function answerPieces(lastUserMessage: string, count: number): string[] {
  const said = lastUserMessage.trim() === '' ? '(nothing)' : lastUserMessage;
  const words = `You said: ${said}. `.split(/(?<= )/);
  for (let i = 0; words.length < count; i++) {
    words.push(`${FILLER[i % FILLER.length] ?? 'filler'} `);
  }
  if (words.length === count) return words;
  // More words than chunks: group neighbouring words so there are exactly `count` pieces.
  const pieces: string[] = [];
  for (let i = 0; i < count; i++) {
    const start = Math.floor((i * words.length) / count);
    const end = Math.floor(((i + 1) * words.length) / count);
    pieces.push(words.slice(start, end).join(''));
  }
  return pieces;
}

/** The reasoning text of the `reasoning` scenario, in `count` pieces. */
export function reasoningPieces(lastUserMessage: string, count: number): string[] {
  const topic = lastUserMessage.trim().slice(0, 60) || '(nothing)';
  const steps = [
    'The user wrote: ',
    `"${topic}". `,
    'I should echo it back ',
    'and then add some filler words. ',
  ];
  const pieces: string[] = [];
  for (let i = 0; i < count; i++) {
    pieces.push(i < steps.length ? (steps[i] ?? '') : `Step ${i + 1} of fake thinking. `);
  }
  return pieces;
}

/**
 * A request is a title request when its first message is a `system` message that mentions a
 * title (as an app's "write the title of this conversation" instruction does).
 */
export function isTitleRequest(messages: ReadonlyArray<{ role: string; text: string }>): boolean {
  const first = messages[0];
  return first?.role === 'system' && /\btitle\b/i.test(first.text);
}

/**
 * The fake's title for a conversation: the first five words of its first user message, without
 * `[fake …]` directives and punctuation, each capitalized ("Plan a trip to Lisbon" → "Plan A
 * Trip To Lisbon"); `Untitled Conversation` when no word is left. Deterministic, so tests can
 * tell it from the provisional title (the question's first words as typed).
 */
export function fakeTitle(firstUserMessage: string): string {
  const words = firstUserMessage
    .replace(/\[fake[^\]]*\]/gi, ' ')
    .replace(/[^\p{L}\p{N}\s'-]/gu, ' ')
    .split(/\s+/)
    .filter((w) => w !== '')
    .slice(0, 5)
    .map((w) => w.charAt(0).toUpperCase() + w.slice(1).toLowerCase());
  return words.length === 0 ? 'Untitled Conversation' : words.join(' ');
}

/** The title in pieces of one word each (with its following space), for streaming. */
export function titlePieces(firstUserMessage: string): string[] {
  return fakeTitle(firstUserMessage).split(/(?<= )/);
}

/**
 * The answer's pieces still to write when the request ends with an assistant message (a
 * continuation, "prefill"): if that text begins the deterministic answer, the rest of it, so a
 * cut-off answer continued reads as the whole answer; otherwise the whole answer again.
 */
export function continuationPieces(pieces: readonly string[], prefill: string | null): string[] {
  if (prefill === null || prefill === '') return [...pieces];
  const whole = pieces.join('');
  if (!whole.startsWith(prefill)) return [...pieces];
  let at = 0;
  for (const [i, piece] of pieces.entries()) {
    if (at === prefill.length) return pieces.slice(i);
    at += piece.length;
    if (at > prefill.length) return [whole.slice(prefill.length, at), ...pieces.slice(i + 1)];
  }
  return [];
}

/** The `url_citation` annotations of an answer citing `count` (made-up) web pages. */
export function citations(lastUserMessage: string, answer: string, count: number) {
  const topic = lastUserMessage.trim().slice(0, 40) || '(nothing)';
  return Array.from({ length: count }, (_, i) => ({
    type: 'url_citation' as const,
    url_citation: {
      url: `https://search.fake-openrouter.test/result/${i + 1}?q=${encodeURIComponent(topic)}`,
      title: `Fake search result ${i + 1} for "${topic}"`,
      content: `An excerpt of fake page ${i + 1}.`,
      start_index: 0,
      end_index: answer.length,
    },
  }));
}
