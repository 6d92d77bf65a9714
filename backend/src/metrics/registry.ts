import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { ChatMetrics } from '../chat/metrics.js';
import type { DbObserver } from '../db/instrumented.js';

export interface Metrics {
  /** What GET /metrics serves. */
  registry: Registry;
  chat: ChatMetrics;
  observeDb: DbObserver;
  observeHttp(request: { method: string; route: string; status: number; seconds: number }): void;
}

/**
 * One registry per app, never prom-client's global one: two apps in one process (the tests)
 * must not share or clash over metrics. Label values are bounded: routes are patterns, codes
 * come from errors.ts, models from the conversation's model id.
 */
export function createMetrics(
  /** DuckDB's memory by component (metrics/repo.ts), read at each scrape. */
  databaseMemory?: () => Promise<Array<{ tag: string; bytes: number }>>,
): Metrics {
  const registry = new Registry();
  // Process and Node.js runtime figures (CPU, memory, event loop lag, GC, handles).
  collectDefaultMetrics({ register: registry });
  const registers = [registry];

  const httpRequests = new Counter({
    name: 'http_requests_total',
    help: 'HTTP requests answered, by method, route pattern and status.',
    labelNames: ['method', 'route', 'status'] as const,
    registers,
  });
  const httpDuration = new Histogram({
    name: 'http_request_duration_seconds',
    help: 'Time from request to the end of the response (for a streamed answer, the whole stream).',
    labelNames: ['method', 'route', 'status'] as const,
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300],
    registers,
  });
  const streamsRunning = new Gauge({
    name: 'chat_streams_running',
    help: 'Answers being generated right now.',
    registers,
  });
  const timeToFirstToken = new Histogram({
    name: 'upstream_time_to_first_token_seconds',
    help: 'Time from the upstream call to the first content or reasoning token.',
    labelNames: ['model'] as const,
    buckets: [0.1, 0.25, 0.5, 1, 2, 3, 5, 10, 20, 30, 60],
    registers,
  });
  const upstreamDuration = new Histogram({
    name: 'upstream_duration_seconds',
    help: 'Duration of an upstream chat call, from request to its last event.',
    labelNames: ['model'] as const,
    buckets: [0.5, 1, 2, 5, 10, 20, 30, 60, 120, 300, 600],
    registers,
  });
  const upstreamErrors = new Counter({
    name: 'upstream_errors_total',
    help: 'Upstream chat calls that failed, by error code (see errors.ts).',
    labelNames: ['code'] as const,
    registers,
  });
  const tokens = new Counter({
    name: 'chat_tokens_total',
    help: 'Tokens reported by upstream usage, by model and kind (prompt, completion, reasoning).',
    labelNames: ['model', 'kind'] as const,
    registers,
  });
  const cost = new Counter({
    name: 'chat_cost_usd_total',
    help: 'Cost reported by upstream usage, in USD.',
    labelNames: ['model'] as const,
    registers,
  });
  const dbDuration = new Histogram({
    name: 'db_query_duration_seconds',
    help: 'Duration of database calls, including the wait for the single connection.',
    labelNames: ['kind'] as const,
    buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
    registers,
  });

  if (databaseMemory) {
    new Gauge({
      name: 'duckdb_memory_bytes',
      help: 'Memory DuckDB holds, by its own component tags (duckdb_memory()).',
      labelNames: ['tag'] as const,
      registers,
      async collect() {
        for (const { tag, bytes } of await databaseMemory()) this.set({ tag }, bytes);
      },
    });
  }

  const chat: ChatMetrics = {
    generationStarted() {
      streamsRunning.inc();
    },
    generationEnded(summary) {
      streamsRunning.dec();
      const { model, usage } = summary;
      upstreamDuration.observe({ model }, summary.durationSeconds);
      if (summary.timeToFirstTokenSeconds !== null)
        timeToFirstToken.observe({ model }, summary.timeToFirstTokenSeconds);
      if (summary.upstreamErrorCode !== null)
        upstreamErrors.inc({ code: summary.upstreamErrorCode });
      if (usage) {
        tokens.inc({ model, kind: 'prompt' }, usage.promptTokens);
        tokens.inc({ model, kind: 'completion' }, usage.completionTokens);
        tokens.inc({ model, kind: 'reasoning' }, usage.reasoningTokens);
        if (usage.cost !== null) cost.inc({ model }, usage.cost);
      }
    },
  };

  return {
    registry,
    chat,
    observeDb: (kind, seconds) => dbDuration.observe({ kind }, seconds),
    observeHttp({ method, route, status, seconds }) {
      const labels = { method, route, status: String(status) };
      httpRequests.inc(labels);
      httpDuration.observe(labels, seconds);
    },
  };
}
