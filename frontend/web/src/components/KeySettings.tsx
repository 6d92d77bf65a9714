import { useCallback, useEffect, useState, type FormEvent } from 'react';
import { api } from '../api/client';
import type { KeyCheck, KeyState, MyBudget } from '../api/types';
import { errorText } from '../lib/errors';
import { dateTime } from '../lib/people';
import { usd } from '../lib/money';
import { whileMounted } from '../lib/whileMounted';

/**
 * Your own OpenRouter key: add, replace, check again or delete it. The key typed here goes to
 * the backend once and never comes back: the page only ever shows its last four characters.
 */
export function OpenRouterKeyCard() {
  const [state, setState] = useState<KeyState | null>(null);
  const [draft, setDraft] = useState('');
  const [busy, setBusy] = useState<'save' | 'check' | 'delete' | null>(null);
  const [error, setError] = useState<string | null>(null);

  useEffect(
    () => whileMounted(api.openRouterKey(), setState, (err) => setError(errorText(err))),
    [],
  );

  const run = useCallback(
    async (kind: 'save' | 'check' | 'delete', action: () => Promise<KeyState>) => {
      setBusy(kind);
      setError(null);
      try {
        setState(await action());
        if (kind === 'save') setDraft('');
      } catch (err) {
        setError(errorText(err));
      } finally {
        setBusy(null);
      }
    },
    [],
  );

  function save(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    if (busy || draft.trim() === '') return;
    void run('save', () => api.saveOpenRouterKey(draft.trim()));
  }

  const key = state?.key ?? null;
  return (
    <section className="card" aria-labelledby="key-heading" data-testid="key-settings">
      <h2 id="key-heading">Your OpenRouter key</h2>
      <p className="page-lead">
        With a key of your own, your chats are billed to your OpenRouter account instead of the
        workspace&apos;s.{' '}
        {state && !key && !state.serverKeyConfigured
          ? 'The workspace has no key of its own: add yours to chat.'
          : null}
      </p>
      {state === null && !error && <p className="muted">Loading…</p>}
      {key && (
        <div className="key-summary" data-testid="key-summary">
          <p>
            <span className="key-mask" data-testid="key-last-four">
              ••••{key.lastFour}
            </span>{' '}
            <span className="muted">
              added {dateTime(key.addedAt)}
              {key.updatedAt !== key.addedAt ? ` · replaced ${dateTime(key.updatedAt)}` : ''}
            </span>
          </p>
          {!key.readable && (
            <p className="form-error" role="alert" data-testid="key-unreadable">
              The server can no longer decrypt this key (its secret key changed): save your key
              again.
            </p>
          )}
          {key.lastCheck && <CheckResult check={key.lastCheck} />}
          <div className="button-row">
            <button
              type="button"
              className="button small"
              disabled={busy !== null || !key.readable}
              data-testid="key-check"
              onClick={() => void run('check', () => api.checkOpenRouterKey())}
            >
              {busy === 'check' ? 'Checking…' : 'Check again'}
            </button>
            <button
              type="button"
              className="button small danger"
              disabled={busy !== null}
              data-testid="key-delete"
              onClick={() =>
                void run('delete', async () => {
                  await api.deleteOpenRouterKey();
                  return { key: null, serverKeyConfigured: state?.serverKeyConfigured ?? false };
                })
              }
            >
              {busy === 'delete' ? 'Deleting…' : 'Delete key'}
            </button>
          </div>
        </div>
      )}
      {state && (
        <form className="stack" onSubmit={save}>
          <label className="field">
            <span>{key ? 'Replace with another key' : 'Key'}</span>
            <input
              type="password"
              autoComplete="off"
              spellCheck={false}
              placeholder="sk-or-v1-…"
              data-testid="key-input"
              value={draft}
              onChange={(e) => setDraft(e.target.value)}
            />
          </label>
          <p className="field-hint">
            It is checked with OpenRouter, then stored encrypted. Only its last four characters are
            ever shown again.
          </p>
          <div>
            <button
              type="submit"
              className="button primary"
              disabled={busy !== null || draft.trim() === ''}
              data-testid="key-save"
            >
              {busy === 'save' ? 'Checking…' : key ? 'Replace key' : 'Save key'}
            </button>
          </div>
        </form>
      )}
      {error && (
        <p className="form-error" role="alert" data-testid="key-error">
          {error}
        </p>
      )}
    </section>
  );
}

function CheckResult({ check }: { check: KeyCheck }) {
  const when = dateTime(check.checkedAt);
  if (check.status === 'valid') {
    const figures = [
      check.limitUsd === null ? 'no credit limit' : `limit ${usd(check.limitUsd)}`,
      check.usageUsd === null ? null : `used ${usd(check.usageUsd)}`,
      check.limitRemainingUsd === null ? null : `${usd(check.limitRemainingUsd)} left`,
      check.isFreeTier ? 'free tier' : null,
    ].filter(Boolean);
    return (
      <p className="form-ok" role="status" data-testid="key-check-result" data-status="valid">
        Valid on OpenRouter ({figures.join(', ')}) · checked {when}
      </p>
    );
  }
  return (
    <p
      className="form-error"
      role="status"
      data-testid="key-check-result"
      data-status={check.status}
    >
      {check.status === 'invalid'
        ? 'OpenRouter refuses this key'
        : 'OpenRouter could not be reached to check it'}
      {check.message ? `: ${check.message}` : '.'} · checked {when}
    </p>
  );
}

/** What your answers cost this month, against your monthly limit. */
export function SpendingCard() {
  const [budget, setBudget] = useState<MyBudget | null>(null);
  const [error, setError] = useState<string | null>(null);

  useEffect(() => whileMounted(api.myBudget(), setBudget, (err) => setError(errorText(err))), []);

  const share =
    budget && budget.limitUsd !== null && budget.limitUsd > 0
      ? Math.min(1, budget.spentUsd / budget.limitUsd)
      : null;
  return (
    <section className="card" aria-labelledby="spending-heading" data-testid="spending">
      <h2 id="spending-heading">Spending this month</h2>
      {error && (
        <p className="form-error" role="alert">
          {error}
        </p>
      )}
      {budget === null && !error && <p className="muted">Loading…</p>}
      {budget && (
        <>
          <p data-testid="spending-summary">
            {usd(budget.spentUsd)}{' '}
            {budget.limitUsd === null
              ? 'spent, no monthly limit.'
              : `of your ${usd(budget.limitUsd)} monthly limit.`}
          </p>
          {share !== null && (
            <progress className="spending-bar" max={1} value={share} aria-label="Share of limit" />
          )}
          <p className="muted">
            Resets {dateTime(budget.resetsAt)}.
            {budget.limitUsd !== null && budget.spentUsd >= budget.limitUsd
              ? ' The limit is reached: new messages are refused until then, or until an administrator raises it.'
              : ''}
          </p>
        </>
      )}
    </section>
  );
}
