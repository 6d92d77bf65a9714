/** JSON over fetch for the chaos harness. Network failures throw; HTTP errors do not. */
export interface Answer {
  status: number;
  // The harness reads fields freely; verify.ts checks what matters.
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  body: any;
}

export async function api(
  baseUrl: string,
  cookie: string | null,
  method: string,
  path: string,
  body?: unknown,
): Promise<Answer> {
  const response = await fetch(`${baseUrl}${path}`, {
    method,
    headers: {
      ...(cookie ? { cookie } : {}),
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
    },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await response.text();
  return { status: response.status, body: text === '' ? null : JSON.parse(text) };
}

/**
 * A read, tried again after a network failure: a pooled connection to the process that was
 * killed can fail once after the restart, which says nothing about the new process.
 */
export async function read(baseUrl: string, cookie: string, path: string): Promise<Answer> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await api(baseUrl, cookie, 'GET', path);
    } catch (error) {
      if (attempt === 3) throw error;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }
}
