import { request, type Agent } from 'undici';
import { summarize, type Summary } from './util.js';

/** One GET of a benchmark through the HTTP API, as a signed-in user. */
export interface HttpCall {
  path: string;
  cookie: string;
  /** What is wrong with the answer's JSON, or null; a 200 with a wrong body counts as a failure. */
  check?: (json: unknown) => string | null;
}

/**
 * Times GETs against the backend: each call's milliseconds until its body is read. A non-200,
 * an empty body, a failed check or a network error counts as a failure (a few kept as samples)
 * and is still timed: benchmarks report failures, never hide them.
 */
export class Http {
  failures = 0;
  samples: string[] = [];
  constructor(
    private readonly base: string,
    private readonly agent: Agent,
  ) {}

  async call(c: HttpCall): Promise<number> {
    const start = performance.now();
    try {
      const { statusCode, body } = await request(`${this.base}${c.path}`, {
        headers: { cookie: c.cookie },
        dispatcher: this.agent,
      });
      const text = await body.text();
      const ms = performance.now() - start;
      if (statusCode !== 200) this.fail(`GET ${c.path}: ${statusCode} ${text.slice(0, 200)}`);
      else if (text.length === 0) this.fail(`GET ${c.path}: an empty body`);
      else if (c.check) {
        const problem = c.check(JSON.parse(text));
        if (problem) this.fail(`GET ${c.path}: ${problem}`);
      }
      return ms;
    } catch (error) {
      this.fail(`GET ${c.path}: ${String(error)}`);
      return performance.now() - start;
    }
  }

  fail(message: string): void {
    this.failures++;
    if (this.samples.length < 5) this.samples.push(message);
  }

  /** `warmUp` untimed calls, then `calls` timed ones, call i made by `make(i)`. */
  async timed(make: (i: number) => HttpCall, calls: number, warmUp: number): Promise<Summary> {
    for (let i = 0; i < warmUp; i++) await this.call(make(i));
    const ms: number[] = [];
    for (let i = 0; i < calls; i++) ms.push(await this.call(make(i)));
    return summarize(ms);
  }
}
