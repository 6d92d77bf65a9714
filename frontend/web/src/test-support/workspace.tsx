import { act } from 'react';
import { afterEach, beforeEach, vi } from 'vitest';
import type { Model, User } from '../api/types';
import Workspace from '../components/Workspace';
import { domPerTest } from './dom';

// The workspace rendered in jsdom against a fetch that answers per route ("METHOD url"):
// what the component tests of the workspace (Workspace.test.tsx, TemporaryChat.test.tsx) share.

export const user: User = {
  id: 'u',
  username: 'ada',
  role: 'admin',
  createdAt: '2025-01-01T00:00:00Z',
};

export const gpt4o: Model = {
  id: 'openai/gpt-4o',
  name: 'GPT-4o',
  description: '',
  contextLength: 128000,
  pricing: { prompt: '0.0000025', completion: '0.00001' },
  inputModalities: ['text'],
  outputModalities: ['text'],
  supportedParameters: [],
};

/** A stream the test writes to, event by event. */
export function controllableStream() {
  const encoder = new TextEncoder();
  let controller!: ReadableStreamDefaultController<Uint8Array>;
  const body = new ReadableStream<Uint8Array>({
    start(c) {
      controller = c;
    },
  });
  return {
    response: new Response(body, { headers: { 'content-type': 'text/event-stream' } }),
    send(event: string, data: unknown) {
      controller.enqueue(encoder.encode(`event: ${event}\ndata: ${JSON.stringify(data)}\n\n`));
    },
    close() {
      controller.close();
    },
    /** Several events in one network chunk, as when they arrive faster than they are read. */
    sendMany(events: Array<[string, unknown]>) {
      const text = events.map(([e, d]) => `event: ${e}\ndata: ${JSON.stringify(d)}\n\n`).join('');
      controller.enqueue(encoder.encode(text));
    },
    /** The connection breaks off, as when the network goes. */
    fail() {
      controller.error(new TypeError('network error'));
    },
  };
}

export type Route = (init: RequestInit | undefined) => Response | Promise<Response>;

/**
 * Sets up (beforeEach) and tears down (afterEach) a workspace test: `routes` answers fetch,
 * `calls` records every request ("METHOD url"), both emptied before each test.
 */
export function workspaceHarness(options: {
  models: Model[];
  /** Whether /api/health says the server has an OpenRouter key. */
  upstreamKeyConfigured: boolean;
  /** Sees each request before it is answered. */
  onRequest?: (key: string, init: RequestInit | undefined) => void;
}) {
  const routes = new Map<string, Route>();
  const calls: string[] = [];
  const dom = domPerTest();

  beforeEach(() => {
    window.history.replaceState(null, '', '/');
    calls.length = 0;
    routes.clear();
    const defaults: Array<[string, Route]> = [
      [
        'GET /api/models',
        () => Response.json({ models: options.models, fetchedAt: null, stale: false }),
      ],
      ['GET /api/models/preferences', () => Response.json({ favorites: [], defaultModel: null })],
      [
        'GET /api/health',
        () =>
          Response.json({
            status: 'ok',
            database: 'ok',
            upstreamKeyConfigured: options.upstreamKeyConfigured,
          }),
      ],
      [
        'GET /api/conversations?limit=30',
        () => Response.json({ conversations: [], nextCursor: null }),
      ],
      ['GET /api/folders', () => Response.json({ folders: [] })],
      ['GET /api/presets', () => Response.json({ presets: [] })],
    ];
    for (const [key, route] of defaults) routes.set(key, route);
    vi.stubGlobal(
      'fetch',
      vi.fn(async (input: RequestInfo | URL, init?: RequestInit) => {
        const url =
          typeof input === 'string' ? input : input instanceof URL ? input.href : input.url;
        const key = `${init?.method ?? 'GET'} ${url}`;
        calls.push(key);
        options.onRequest?.(key, init);
        const route = routes.get(key);
        if (!route) {
          return Response.json({ error: { code: 'test', message: key } }, { status: 404 });
        }
        return route(init);
      }),
    );
  });

  afterEach(() => {
    vi.unstubAllGlobals();
    vi.restoreAllMocks();
  });

  const $ = dom.$;
  const $$ = (testId: string): HTMLElement[] => [
    ...dom.container.querySelectorAll<HTMLElement>(`[data-testid="${testId}"]`),
  ];

  async function waitFor(check: () => boolean, what: string) {
    for (let i = 0; i < 100; i++) {
      if (check()) return;
      await act(async () => {
        await new Promise((r) => setTimeout(r, 10));
      });
    }
    throw new Error(`timed out waiting for ${what}`);
  }

  return {
    routes,
    calls,
    /** The element the workspace is rendered into. */
    container: () => dom.container,
    $,
    $$,
    waitFor,
    render: async () => {
      await act(async () => {
        dom.root.render(<Workspace user={user} onSignedOut={() => undefined} />);
        await Promise.resolve();
      });
    },
    /** Sets a textarea's value as typing would (React notices the change). */
    type: (el: HTMLElement, value: string) => {
      const textarea = el as HTMLTextAreaElement;
      act(() => {
        // The prototype's setter, so React notices the change as it would a user's typing.
        Reflect.set(HTMLTextAreaElement.prototype, 'value', value, textarea);
        textarea.dispatchEvent(new Event('input', { bubbles: true }));
      });
    },
    press: (el: HTMLElement, key: string, shiftKey = false) => {
      act(() => {
        el.dispatchEvent(new KeyboardEvent('keydown', { key, shiftKey, bubbles: true }));
      });
    },
  };
}
