/** The ops CLI's side of the /ops routes: the running backend, on loopback. */

export type BackendAnswer =
  { reached: false } | { reached: true; status: number; body: unknown; text: string };

/**
 * POSTs to http://127.0.0.1:<port><path>. `reached: false` means nothing listens there (the
 * backend is not running), so the caller may open the database file itself.
 */
export async function callBackend(
  port: number,
  path: string,
  body: unknown,
  fetchImpl: typeof fetch = fetch,
): Promise<BackendAnswer> {
  let response: Response;
  try {
    response = await fetchImpl(`http://127.0.0.1:${port}${path}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
  } catch (error) {
    if (refused(error)) return { reached: false };
    throw error;
  }
  const text = await response.text();
  let parsed: unknown = null;
  try {
    parsed = JSON.parse(text);
  } catch {
    // Not our backend, or not JSON: the caller reports the text.
  }
  return { reached: true, status: response.status, body: parsed, text };
}

/** Whether a backend answers on the port at all (any HTTP answer counts). */
export async function backendRunning(port: number, fetchImpl: typeof fetch = fetch) {
  try {
    await fetchImpl(`http://127.0.0.1:${port}/api/health`, { signal: AbortSignal.timeout(5000) });
    return true;
  } catch (error) {
    if (refused(error)) return false;
    // Something holds the port but does not answer in time: treat it as running, to be safe.
    return true;
  }
}

/** The message of our `{ error: { code, message } }` shape, else the raw text. */
export function errorMessage(answer: { status: number; body: unknown; text: string }): string {
  const error = (answer.body as { error?: { code?: unknown; message?: unknown } } | null)?.error;
  if (typeof error?.message === 'string') return `${error.message} (${String(error.code)})`;
  return `HTTP ${answer.status}: ${answer.text.slice(0, 300)}`;
}

function refused(error: unknown): boolean {
  const cause = (error as { cause?: { code?: unknown } } | null)?.cause;
  return cause?.code === 'ECONNREFUSED';
}
