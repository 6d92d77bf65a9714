/** The few API calls the benchmarks make to set things up (straight to the backend). */
import { request } from 'undici';

export const ADMIN = { username: 'admin', password: 'correct horse battery staple' };

/**
 * Creates the admin account on a fresh database; returns its session cookie and id. The
 * session is taken over plain HTTP (straight to the backend), where the cookie is named
 * `ai_session`; over HTTPS (the nginx variants) the backend reads `__Host-ai_session`, so
 * the Cookie header carries the token under both names.
 */
export async function setupAdmin(backendUrl: string): Promise<{ cookie: string; userId: string }> {
  const response = await fetch(`${backendUrl}/api/auth/setup`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(ADMIN),
  });
  if (response.status !== 201) {
    throw new Error(`setup: ${response.status} ${await response.text()}`);
  }
  const plain = response.headers.getSetCookie()[0]?.split(';')[0];
  if (!plain?.startsWith('ai_session=')) throw new Error('setup: no session cookie');
  const token = plain.slice('ai_session='.length);
  const { user } = (await response.json()) as { user: { id: string } };
  return { cookie: `ai_session=${token}; __Host-ai_session=${token}`, userId: user.id };
}

export async function createConversations(
  backendUrl: string,
  cookie: string,
  count: number,
  model: string,
): Promise<string[]> {
  const ids: string[] = [];
  // A few at a time: each is one DuckDB commit.
  const parallel = 8;
  for (let start = 0; start < count; start += parallel) {
    const batch = await Promise.all(
      Array.from({ length: Math.min(parallel, count - start) }, async (_, k) => {
        const { statusCode, body } = await request(`${backendUrl}/api/conversations`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', cookie },
          body: JSON.stringify({ title: `Bench ${start + k}`, model }),
        });
        const json = (await body.json()) as { id?: string };
        if (statusCode !== 201 || !json.id) {
          throw new Error(`create conversation: ${statusCode} ${JSON.stringify(json)}`);
        }
        return json.id;
      }),
    );
    ids.push(...batch);
  }
  return ids;
}

/** The backend's /metrics text (Prometheus), or '' when it does not answer. */
export async function scrape(backendUrl: string): Promise<string> {
  try {
    return await (await fetch(`${backendUrl}/metrics`)).text();
  } catch {
    return '';
  }
}

/** One sample value of a scrape (the first, whatever its labels), or NaN. */
export function sampleOf(text: string, name: string): number {
  const match = new RegExp(`^${name}(?:\\{[^}]*\\})? ([^\\s]+)`, 'm').exec(text);
  return match ? Number(match[1]) : NaN;
}

/** One Prometheus sample value from the backend's /metrics, or NaN. */
export async function metric(backendUrl: string, name: string): Promise<number> {
  return sampleOf(await scrape(backendUrl), name);
}

/** Where the backend's memory is, from one scrape: V8's heap and DuckDB's own accounting, in MB. */
export interface BackendMemory {
  heapTotalMb: number;
  heapUsedMb: number;
  /** duckdb_memory_bytes by tag (ART_INDEX, BASE_TABLE, IN_MEMORY_TABLE, …), tags over 0. */
  duckdbMb: Record<string, number>;
}

export function backendMemory(text: string): BackendMemory {
  const duckdbMb: Record<string, number> = {};
  for (const m of text.matchAll(/^duckdb_memory_bytes\{tag="(\w+)"\} (\S+)/gm)) {
    const value = Number(m[2]) / 1048576;
    if (value > 0) duckdbMb[m[1]!] = value;
  }
  return {
    heapTotalMb: sampleOf(text, 'nodejs_heap_size_total_bytes') / 1048576,
    heapUsedMb: sampleOf(text, 'nodejs_heap_size_used_bytes') / 1048576,
    duckdbMb,
  };
}

export interface DbCalls {
  queries: number;
  querySeconds: number;
  transactions: number;
  transactionSeconds: number;
}

/** The backend's db_query_duration_seconds counters (wait for the one connection included). */
export async function dbCalls(backendUrl: string): Promise<DbCalls> {
  const text = await (await fetch(`${backendUrl}/metrics`)).text();
  const read = (part: 'sum' | 'count', kind: string) =>
    Number(
      new RegExp(`^db_query_duration_seconds_${part}\\{kind="${kind}"\\} (\\S+)`, 'm').exec(
        text,
      )?.[1] ?? 0,
    );
  return {
    queries: read('count', 'query'),
    querySeconds: read('sum', 'query'),
    transactions: read('count', 'transaction'),
    transactionSeconds: read('sum', 'transaction'),
  };
}
