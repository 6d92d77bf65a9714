import { useEffect, useRef, useState, type FormEvent } from 'react';
import { api } from '../api/client';
import type { AdminBudgets as Budgets, AdminBudgetUser } from '../api/types';
import { errorText } from '../lib/errors';
import { dateTime } from '../lib/people';
import { parseLimit, usd } from '../lib/money';

/**
 * Monthly spending limits (admins only): the default for everyone, and each user's own limit
 * with what they spent this month. An empty limit is no limit.
 */
export function AdminBudgets() {
  const [budgets, setBudgets] = useState<Budgets | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  // Bumped by every save: a refresh that began before one must not put back what it replaced.
  const saves = useRef(0);

  useEffect(() => {
    let live = true;
    const load = () => {
      const before = saves.current;
      api.admin.budgets().then(
        (value) => {
          if (live && saves.current === before) setBudgets(value);
        },
        (err: unknown) => {
          if (live) setError(errorText(err));
        },
      );
    };
    load();
    // What users spent moves while the page is open: it is read again whenever the admin
    // comes back to the page (another tab, another window).
    const onReturn = () => {
      if (document.visibilityState === 'visible') load();
    };
    document.addEventListener('visibilitychange', onReturn);
    window.addEventListener('focus', onReturn);
    return () => {
      live = false;
      document.removeEventListener('visibilitychange', onReturn);
      window.removeEventListener('focus', onReturn);
    };
  }, []);

  async function change(action: () => Promise<Budgets>): Promise<boolean> {
    setBusy(true);
    setError(null);
    saves.current += 1;
    try {
      setBudgets(await action());
      return true;
    } catch (err) {
      setError(errorText(err));
      return false;
    } finally {
      setBusy(false);
    }
  }

  return (
    <section className="card" aria-labelledby="budgets-heading" data-testid="admin-budgets">
      <h2 id="budgets-heading">Monthly spending limits</h2>
      <p className="page-lead">
        A user whose answers this calendar month (UTC) cost their limit or more cannot send until
        the month ends or the limit is raised. Empty means no limit.
        {budgets ? ` Limits reset ${dateTime(budgets.resetsAt)}.` : ''}
      </p>
      {error && (
        <p className="form-error" role="alert" data-testid="budgets-error">
          {error}
        </p>
      )}
      {budgets === null && !error && <p className="muted">Loading…</p>}
      {budgets && (
        <>
          <LimitForm
            // A new current value (after a save) starts a fresh form showing it.
            key={`default-${String(budgets.defaultLimitUsd)}`}
            label="Default for everyone"
            testId="budget-default"
            current={budgets.defaultLimitUsd}
            busy={busy}
            onSave={(limit) => change(() => api.admin.setDefaultBudget(limit))}
          />
          <table className="table budget-table">
            <thead>
              <tr>
                <th scope="col">User</th>
                <th scope="col">Spent this month</th>
                <th scope="col">Limit</th>
              </tr>
            </thead>
            <tbody>
              {budgets.users.map((user) => (
                <UserRow
                  key={user.userId}
                  user={user}
                  busy={busy}
                  onSave={(limit) => change(() => api.admin.setUserBudget(user.userId, limit))}
                  onReset={() => change(() => api.admin.resetUserBudget(user.userId))}
                />
              ))}
            </tbody>
          </table>
        </>
      )}
    </section>
  );
}

function UserRow({
  user,
  busy,
  onSave,
  onReset,
}: {
  user: AdminBudgetUser;
  busy: boolean;
  onSave: (limit: number | null) => Promise<boolean>;
  onReset: () => Promise<boolean>;
}) {
  const over = user.limitUsd !== null && user.spentUsd >= user.limitUsd;
  return (
    <tr data-testid="budget-user" data-username={user.username}>
      <td>
        {user.username}
        {user.role === 'admin' && <span className="badge">admin</span>}
      </td>
      <td className={over ? 'budget-over' : undefined}>
        {usd(user.spentUsd)}
        {over ? ' (limit reached)' : ''}
      </td>
      <td>
        <LimitForm
          key={`${String(user.ownLimit)}-${String(user.limitUsd)}`}
          label={`Limit of ${user.username}`}
          hideLabel
          testId="budget-user-limit"
          current={user.limitUsd}
          placeholder={user.ownLimit ? 'No limit' : 'Default'}
          busy={busy}
          onSave={onSave}
        />
        {user.ownLimit ? (
          <button
            type="button"
            className="button small"
            disabled={busy}
            data-testid="budget-user-reset"
            onClick={() => void onReset()}
          >
            Use default
          </button>
        ) : (
          <span className="muted"> (default)</span>
        )}
      </td>
    </tr>
  );
}

function LimitForm({
  label,
  hideLabel = false,
  testId,
  current,
  placeholder = 'No limit',
  busy,
  onSave,
}: {
  label: string;
  hideLabel?: boolean;
  testId: string;
  current: number | null;
  placeholder?: string;
  busy: boolean;
  onSave: (limit: number | null) => Promise<boolean>;
}) {
  const shown = current === null ? '' : String(current);
  const [draft, setDraft] = useState(shown);
  const [invalid, setInvalid] = useState(false);

  async function submit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    const limit = parseLimit(draft);
    setInvalid(limit === undefined);
    if (limit === undefined) return;
    await onSave(limit);
  }

  return (
    <form className="limit-form" onSubmit={(e) => void submit(e)} data-testid={testId}>
      <label className="field inline">
        <span className={hideLabel ? 'visually-hidden' : undefined}>{label} (USD)</span>
        <input
          inputMode="decimal"
          placeholder={placeholder}
          aria-invalid={invalid}
          value={draft}
          onChange={(e) => setDraft(e.target.value)}
        />
      </label>
      <button type="submit" className="button small" disabled={busy || draft === shown}>
        Save
      </button>
      {invalid && (
        <span className="form-error" role="alert">
          A number of dollars, or empty for no limit.
        </span>
      )}
    </form>
  );
}
