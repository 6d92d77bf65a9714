import { useState, type FormEvent } from 'react';
import { errorText } from '../lib/errors';
import { api } from '../api/client';
import type { Credentials, User } from '../api/types';

interface AuthFormProps {
  kind: 'setup' | 'login';
  onDone: (user: User) => void;
}

/** First-run setup (creates the admin account) and sign-in share one form. */
function AuthForm({ kind, onDone }: AuthFormProps) {
  const [username, setUsername] = useState('');
  const [password, setPassword] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);

  async function submit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    if (busy) return;
    setBusy(true);
    setError(null);
    const body: Credentials = { username: username.trim(), password };
    try {
      const { user } = kind === 'setup' ? await api.setup(body) : await api.login(body);
      onDone(user);
    } catch (err) {
      setError(errorText(err));
      setBusy(false);
    }
  }

  const setup = kind === 'setup';
  return (
    <main className="auth">
      <form className="auth-card" onSubmit={(e) => void submit(e)}>
        <div className="auth-logo" aria-hidden="true">
          ✦
        </div>
        <h1>{setup ? 'Welcome' : 'Sign in'}</h1>
        <p className="auth-lead">
          {setup
            ? 'Create the administrator account for this workspace.'
            : 'Sign in to your workspace.'}
        </p>
        <label className="field">
          <span>Username</span>
          <input
            data-testid={setup ? 'setup-username' : 'login-username'}
            name="username"
            autoComplete="username"
            autoCapitalize="none"
            spellCheck={false}
            required
            autoFocus
            value={username}
            onChange={(e) => setUsername(e.target.value)}
          />
        </label>
        <label className="field">
          <span>Password</span>
          <input
            data-testid={setup ? 'setup-password' : 'login-password'}
            name="password"
            type="password"
            autoComplete={setup ? 'new-password' : 'current-password'}
            minLength={setup ? 8 : undefined}
            required
            value={password}
            onChange={(e) => setPassword(e.target.value)}
          />
        </label>
        {setup && <p className="field-hint">At least 8 characters.</p>}
        {error && (
          <p className="form-error" role="alert">
            {error}
          </p>
        )}
        <button
          className="button primary wide"
          type="submit"
          disabled={busy}
          data-testid={setup ? 'setup-submit' : 'login-submit'}
        >
          {busy ? 'Please wait…' : setup ? 'Create account' : 'Sign in'}
        </button>
      </form>
    </main>
  );
}

export function SetupScreen({ onDone }: { onDone: (user: User) => void }) {
  return <AuthForm kind="setup" onDone={onDone} />;
}

export function LoginScreen({ onDone }: { onDone: (user: User) => void }) {
  return <AuthForm kind="login" onDone={onDone} />;
}
