import { useCallback, useEffect, useState, type FormEvent } from 'react';
import { api } from '../api/client';
import type { Session, User } from '../api/types';
import { errorText } from '../lib/errors';
import { dateTime, deviceName } from '../lib/people';
import { DataTransferCard } from './DataTransfer';
import { OpenRouterKeyCard, SpendingCard } from './KeySettings';
import { whileMounted } from '../lib/whileMounted';

interface AccountPageProps {
  user: User;
  onSignedOut: () => void;
  /** After an import: the sidebar lists the new conversations. */
  onImported: () => void;
}

/** Your password and your sessions: change the one, see and end the others. */
export function AccountPage({ user, onSignedOut, onImported }: AccountPageProps) {
  return (
    <div className="page" data-testid="account-page">
      <div className="page-column">
        <h1 className="page-title">Account</h1>
        <p className="page-lead">
          Signed in as <strong>{user.username}</strong>
          {user.role === 'admin' ? ' (administrator)' : ''}.
        </p>
        <ChangePassword />
        <Sessions onSignedOut={onSignedOut} />
        <OpenRouterKeyCard />
        <SpendingCard />
        <DataTransferCard onImported={onImported} />
      </div>
    </div>
  );
}

function ChangePassword() {
  const [current, setCurrent] = useState('');
  const [next, setNext] = useState('');
  const [repeat, setRepeat] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const [done, setDone] = useState<string | null>(null);

  async function submit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    if (busy) return;
    setError(null);
    setDone(null);
    if (next !== repeat) {
      setError('The new passwords differ.');
      return;
    }
    setBusy(true);
    try {
      const { sessionsRevoked } = await api.changePassword({
        currentPassword: current,
        newPassword: next,
      });
      setCurrent('');
      setNext('');
      setRepeat('');
      setDone(
        sessionsRevoked === 0
          ? 'Password changed.'
          : `Password changed. ${sessionsRevoked} other session${sessionsRevoked === 1 ? ' was' : 's were'} signed out.`,
      );
    } catch (err) {
      setError(errorText(err));
    } finally {
      setBusy(false);
    }
  }

  return (
    <section className="card" aria-labelledby="password-heading">
      <h2 id="password-heading">Change password</h2>
      <form className="stack" onSubmit={(e) => void submit(e)}>
        <label className="field">
          <span>Current password</span>
          <input
            type="password"
            autoComplete="current-password"
            required
            data-testid="current-password"
            value={current}
            onChange={(e) => setCurrent(e.target.value)}
          />
        </label>
        <label className="field">
          <span>New password</span>
          <input
            type="password"
            autoComplete="new-password"
            required
            minLength={8}
            data-testid="new-password"
            value={next}
            onChange={(e) => setNext(e.target.value)}
          />
        </label>
        <label className="field">
          <span>New password, again</span>
          <input
            type="password"
            autoComplete="new-password"
            required
            minLength={8}
            data-testid="repeat-password"
            value={repeat}
            onChange={(e) => setRepeat(e.target.value)}
          />
        </label>
        <p className="field-hint">
          At least 8 characters, not a common password. Your other sessions are signed out.
        </p>
        {error && (
          <p className="form-error" role="alert" data-testid="password-error">
            {error}
          </p>
        )}
        {done && (
          <p className="form-ok" role="status" data-testid="password-done">
            {done}
          </p>
        )}
        <div>
          <button
            type="submit"
            className="button primary"
            disabled={busy}
            data-testid="change-password"
          >
            {busy ? 'Please wait…' : 'Change password'}
          </button>
        </div>
      </form>
    </section>
  );
}

function Sessions({ onSignedOut }: { onSignedOut: () => void }) {
  const [sessions, setSessions] = useState<Session[] | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState<string | null>(null);

  const reload = useCallback(async () => {
    try {
      setSessions((await api.sessions()).sessions);
      setError(null);
    } catch (err) {
      setError(errorText(err));
    }
  }, []);

  useEffect(
    () =>
      whileMounted(
        api.sessions(),
        (res) => setSessions(res.sessions),
        (err) => setError(errorText(err)),
      ),
    [],
  );

  async function revoke(session: Session) {
    setBusy(session.id);
    try {
      await api.revokeSession(session.id);
      if (session.current) {
        onSignedOut();
        return;
      }
      await reload();
    } catch (err) {
      setError(errorText(err));
    } finally {
      setBusy(null);
    }
  }

  async function signOutEverywhere() {
    setBusy('all');
    try {
      await api.logoutAll();
      onSignedOut();
    } catch (err) {
      setError(errorText(err));
      setBusy(null);
    }
  }

  return (
    <section className="card" aria-labelledby="sessions-heading">
      <div className="card-header">
        <h2 id="sessions-heading">Sessions</h2>
        <button
          type="button"
          className="button small"
          disabled={busy !== null}
          data-testid="sign-out-everywhere"
          onClick={() => void signOutEverywhere()}
        >
          Sign out everywhere
        </button>
      </div>
      <p className="page-lead">
        Every browser signed in to your account. A session ends when it goes unused for a while, and
        some time after sign-in however much it is used.
      </p>
      {error && (
        <p className="form-error" role="alert">
          {error}
        </p>
      )}
      {sessions === null && !error && <p className="muted">Loading…</p>}
      {sessions && (
        <ul className="session-list">
          {sessions.map((session) => (
            <li
              key={session.id}
              className="session-item"
              data-testid="session-item"
              data-current={session.current ? 'true' : 'false'}
            >
              <div className="session-main">
                <span className="session-device">
                  {deviceName(session.userAgent)}
                  {session.current && <span className="badge">This device</span>}
                </span>
                <span className="muted">
                  Signed in {dateTime(session.createdAt)} · last active{' '}
                  {dateTime(session.lastSeenAt)} · expires {dateTime(session.expiresAt)}
                </span>
              </div>
              <button
                type="button"
                className="button small"
                disabled={busy !== null}
                data-testid="revoke-session"
                onClick={() => void revoke(session)}
              >
                {session.current ? 'Sign out' : 'Revoke'}
              </button>
            </li>
          ))}
        </ul>
      )}
    </section>
  );
}
