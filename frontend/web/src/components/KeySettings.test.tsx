import { act } from 'react';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { AdminBudgets as Budgets, KeyState } from '../api/types';
import { AdminBudgets } from './AdminBudgets';
import { OpenRouterKeyCard, SpendingCard } from './KeySettings';
import { domPerTest } from '../test-support/dom';

const KEY = 'sk-or-v1-0123456789abcdef-WXYZ';
const saved: KeyState = {
  serverKeyConfigured: true,
  key: {
    lastFour: 'WXYZ',
    addedAt: '2026-12-01T10:00:00.000Z',
    updatedAt: '2026-12-01T10:00:00.000Z',
    readable: true,
    lastCheck: {
      status: 'valid',
      checkedAt: '2026-12-01T10:00:00.000Z',
      message: null,
      limitUsd: 20,
      usageUsd: 5,
      limitRemainingUsd: 15,
      isFreeTier: false,
    },
  },
};

type Route = (init: RequestInit | undefined) => Response | Promise<Response>;
let routes: Map<string, Route>;
let calls: Array<{ key: string; body: unknown }>;
const dom = domPerTest();

beforeEach(() => {
  calls = [];
  routes = new Map();
  vi.stubGlobal(
    'fetch',
    vi.fn((input: RequestInfo | URL, init?: RequestInit) => {
      const url = typeof input === 'string' ? input : input instanceof URL ? input.href : input.url;
      const key = `${init?.method ?? 'GET'} ${url}`;
      const body = typeof init?.body === 'string' ? (JSON.parse(init.body) as unknown) : undefined;
      calls.push({ key, body });
      const route = routes.get(key);
      if (!route) {
        return Promise.resolve(
          Response.json({ error: { code: 'test', message: key } }, { status: 404 }),
        );
      }
      return Promise.resolve(route(init));
    }),
  );
});

afterEach(() => {
  vi.unstubAllGlobals();
});

const $ = dom.$;

async function settle(until: () => boolean, what: string) {
  for (let i = 0; i < 50; i++) {
    await act(async () => {
      await new Promise((resolve) => setTimeout(resolve, 5));
    });
    if (until()) return;
  }
  throw new Error(`timed out waiting for ${what}`);
}

function type(input: HTMLInputElement, value: string) {
  // React tracks the value through the prototype's setter: set it there, then fire `input`.
  const descriptor = Object.getOwnPropertyDescriptor(HTMLInputElement.prototype, 'value');
  act(() => {
    descriptor?.set?.call(input, value);
    input.dispatchEvent(new Event('input', { bubbles: true }));
  });
}

describe('OpenRouterKeyCard', () => {
  it('sends the typed key once, then shows only its last four characters and the check', async () => {
    routes.set('GET /api/keys/openrouter', () =>
      Response.json({ key: null, serverKeyConfigured: true }),
    );
    routes.set('PUT /api/keys/openrouter', () => Response.json(saved));
    act(() => dom.root.render(<OpenRouterKeyCard />));
    await settle(() => $('key-input') !== null, 'the form');
    type($('key-input') as HTMLInputElement, KEY);
    act(() => $('key-save')?.click());
    await settle(() => $('key-last-four') !== null, 'the saved key');

    expect(calls.find((c) => c.key === 'PUT /api/keys/openrouter')?.body).toEqual({ key: KEY });
    expect($('key-last-four')?.textContent).toBe('••••WXYZ');
    expect($('key-check-result')?.textContent).toContain('limit $20.00, used $5.00, $15.00 left');
    expect(($('key-input') as HTMLInputElement).value).toBe('');
    expect(($('key-input') as HTMLInputElement).type).toBe('password');
    expect(dom.container.innerHTML).not.toContain(KEY.slice(0, -4));
  });

  it("shows the backend's refusal and keeps nothing", async () => {
    routes.set('GET /api/keys/openrouter', () => Response.json(saved));
    routes.set('PUT /api/keys/openrouter', () =>
      Response.json(
        { error: { code: 'api_key.rejected', message: 'OpenRouter refused this key.' } },
        { status: 400 },
      ),
    );
    act(() => dom.root.render(<OpenRouterKeyCard />));
    await settle(() => $('key-last-four') !== null, 'the saved key');
    type($('key-input') as HTMLInputElement, 'sk-or-v1-typo-typo');
    act(() => $('key-save')?.click());
    await settle(() => $('key-error') !== null, 'the error');
    expect($('key-error')?.textContent).toBe('OpenRouter refused this key.');
    expect($('key-last-four')?.textContent).toBe('••••WXYZ');
  });

  it('says when the server can no longer decrypt the key', async () => {
    routes.set('GET /api/keys/openrouter', () =>
      Response.json({ ...saved, key: { ...saved.key, readable: false } }),
    );
    act(() => dom.root.render(<OpenRouterKeyCard />));
    await settle(() => $('key-unreadable') !== null, 'the warning');
    expect(($('key-check') as HTMLButtonElement).disabled).toBe(true);
  });
});

describe('SpendingCard', () => {
  it('shows the spend against the limit', async () => {
    routes.set('GET /api/budgets/me', () =>
      Response.json({
        month: '2026-12',
        spentUsd: 2.5,
        limitUsd: 10,
        source: 'default',
        resetsAt: '2027-01-01T00:00:00.000Z',
      }),
    );
    act(() => dom.root.render(<SpendingCard />));
    await settle(() => $('spending-summary') !== null, 'the summary');
    expect($('spending-summary')?.textContent).toBe('$2.50 of your $10.00 monthly limit.');
  });
});

describe('AdminBudgets', () => {
  const budgets: Budgets = {
    month: '2026-12',
    resetsAt: '2027-01-01T00:00:00.000Z',
    defaultLimitUsd: null,
    users: [
      {
        userId: 'u2',
        username: 'alice',
        role: 'user',
        ownLimit: false,
        limitUsd: null,
        spentUsd: 1.25,
      },
    ],
  };

  const spent = () => $('budget-user')?.querySelectorAll('td')[1]?.textContent;
  const refocus = () => act(() => void window.dispatchEvent(new Event('focus')));

  it('reads what users spent again when the admin comes back to the page', async () => {
    routes.set('GET /api/admin/budgets', () => Response.json(budgets));
    act(() => dom.root.render(<AdminBudgets />));
    await settle(() => $('budget-user') !== null, 'the list');
    expect(spent()).toBe('$1.25');

    routes.set('GET /api/admin/budgets', () =>
      Response.json({ ...budgets, users: [{ ...budgets.users[0], spentUsd: 4.5 }] }),
    );
    refocus();
    await settle(() => spent() === '$4.50', 'the new figure');
    expect(calls.filter((c) => c.key === 'GET /api/admin/budgets')).toHaveLength(2);
  });

  it('keeps a saved limit when a read that began before the save answers after it', async () => {
    routes.set('GET /api/admin/budgets', () => Response.json(budgets));
    act(() => dom.root.render(<AdminBudgets />));
    await settle(() => $('budget-user') !== null, 'the list');

    let answerStaleRead!: () => void;
    routes.set(
      'GET /api/admin/budgets',
      () =>
        new Promise<Response>(
          (resolve) => (answerStaleRead = () => resolve(Response.json(budgets))),
        ),
    );
    routes.set('PUT /api/admin/budgets/users/u2', () =>
      Response.json({ ...budgets, users: [{ ...budgets.users[0], ownLimit: true, limitUsd: 3 }] }),
    );
    refocus();
    const form = $('budget-user-limit') as HTMLFormElement;
    type(form.querySelector('input') as HTMLInputElement, '3');
    act(() => form.requestSubmit());
    await settle(() => $('budget-user-reset') !== null, 'the saved limit');

    answerStaleRead();
    await settle(() => true, 'the stale read');
    await act(async () => {
      await new Promise((resolve) => setTimeout(resolve, 20));
    });
    expect($('budget-user-reset')).not.toBeNull();
    expect(($('budget-user-limit')?.querySelector('input') as HTMLInputElement).value).toBe('3');
  });

  it("saves a user's limit in dollars and refuses what is not a number", async () => {
    routes.set('GET /api/admin/budgets', () => Response.json(budgets));
    routes.set('PUT /api/admin/budgets/users/u2', () =>
      Response.json({
        ...budgets,
        users: [{ ...budgets.users[0], ownLimit: true, limitUsd: 12.5 }],
      }),
    );
    act(() => dom.root.render(<AdminBudgets />));
    await settle(() => $('budget-user') !== null, 'the list');
    const form = $('budget-user-limit') as HTMLFormElement;
    const input = form.querySelector('input') as HTMLInputElement;
    type(input, 'ten');
    act(() => form.requestSubmit());
    expect(form.textContent).toContain('A number of dollars, or empty for no limit.');
    expect(calls.some((c) => c.key.startsWith('PUT'))).toBe(false);

    type(input, '$12.50');
    act(() => form.requestSubmit());
    await settle(() => $('budget-user-reset') !== null, 'the saved limit');
    expect(calls.find((c) => c.key === 'PUT /api/admin/budgets/users/u2')?.body).toEqual({
      monthlyLimitUsd: 12.5,
    });
    expect(($('budget-user-limit')?.querySelector('input') as HTMLInputElement).value).toBe('12.5');
  });
});
