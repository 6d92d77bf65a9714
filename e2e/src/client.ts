import { readFile } from 'node:fs/promises';
import { Agent, fetch, type Response } from 'undici';

/**
 * An HTTP client for the stack that trusts exactly the test's self-signed certificate
 * (verification stays on), and carries the session cookie like a browser.
 */
export class Client {
  cookie = '';
  private constructor(
    readonly baseUrl: string,
    private readonly dispatcher: Agent,
  ) {}

  static async create(baseUrl: string, caFile?: string): Promise<Client> {
    const ca = caFile ? await readFile(caFile, 'utf8') : undefined;
    return new Client(baseUrl, new Agent({ connect: ca ? { ca } : {} }));
  }

  async request(
    path: string,
    init: { method?: string; body?: unknown; redirect?: 'manual' | 'follow' } = {},
  ): Promise<Response> {
    const response = await fetch(`${this.baseUrl}${path}`, {
      method: init.method ?? (init.body === undefined ? 'GET' : 'POST'),
      headers: {
        ...(this.cookie ? { cookie: this.cookie } : {}),
        ...(init.body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      body: init.body === undefined ? undefined : JSON.stringify(init.body),
      redirect: init.redirect ?? 'follow',
      dispatcher: this.dispatcher,
    });
    const setCookie = response.headers.getSetCookie()[0];
    if (setCookie) this.cookie = setCookie.split(';')[0] ?? '';
    return response;
  }

  async json<T = Record<string, unknown>>(path: string, body?: unknown): Promise<T> {
    const response = await this.request(path, { body });
    if (!response.ok) throw new Error(`${path}: ${response.status} ${await response.text()}`);
    return (await response.json()) as T;
  }

  /** Sends a message and yields the SSE events as they arrive. */
  async *send(
    conversationId: string,
    content: string,
  ): AsyncGenerator<{ event: string; data: Record<string, unknown> }> {
    const response = await this.request(`/api/conversations/${conversationId}/messages`, {
      body: { content },
    });
    if (!response.ok || !response.body) throw new Error(`send: ${response.status}`);
    const decoder = new TextDecoder();
    let buffer = '';
    for await (const chunk of response.body) {
      buffer += decoder.decode(chunk as Uint8Array, { stream: true });
      let end: number;
      while ((end = buffer.indexOf('\n\n')) !== -1) {
        const block = buffer.slice(0, end);
        buffer = buffer.slice(end + 2);
        const event = /^event: (.*)$/m.exec(block)?.[1];
        const data = /^data: (.*)$/m.exec(block)?.[1];
        if (event && data) yield { event, data: JSON.parse(data) as Record<string, unknown> };
      }
    }
  }

  close(): Promise<void> {
    return this.dispatcher.close();
  }
}
