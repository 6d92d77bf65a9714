import { useState, type FormEvent } from 'react';
import { errorText } from '../lib/errors';
import { api } from '../api/client';
import type { Credentials, User } from '../api/types';

interface AuthFormProps {
  kind: 'setup' | 'login' | 'register';
  onDone: (user: User) => void;
  /** Offered under the form: "Create an account" on sign-in, "Sign in" on registration. */
  onSwitch?: (() => void) | undefined;
}

const titles = { setup: 'Welcome', login: 'Sign in', register: 'Create an account' };
const leads = {
  setup: 'Create the administrator account for this workspace.',
  login: 'Sign in to your workspace.',
  register: 'Choose a username and a password for this workspace.',
};

/** First-run setup (creates the admin account), sign-in and registration share one form. */
function AuthForm({ kind, onDone, onSwitch }: AuthFormProps) {
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
      const { user } =
        kind === 'setup'
          ? await api.setup(body)
          : kind === 'register'
            ? await api.register(body)
            : await api.login(body);
      onDone(user);
    } catch (err) {
      setError(errorText(err));
      setBusy(false);
    }
  }

  const setup = kind !== 'login';
  return (
    <main className="auth">
      <form className="auth-card" onSubmit={(e) => void submit(e)}>
        <div className="auth-logo" aria-hidden="true">
          ✦
        </div>
        <h1>{titles[kind]}</h1>
        <p className="auth-lead">{leads[kind]}</p>
        <label className="field">
          <span>Username</span>
          <input
            data-testid={`${kind}-username`}
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
            data-testid={`${kind}-password`}
            name="password"
            type="password"
            autoComplete={setup ? 'new-password' : 'current-password'}
            minLength={setup ? 8 : undefined}
            required
            value={password}
            onChange={(e) => setPassword(e.target.value)}
          />
        </label>
        {setup && (
          <p className="field-hint">
            Username: letters, digits and . _ @ + -. Password: at least 8 characters, not a common
            one.
          </p>
        )}
        {error && (
          <p className="form-error" role="alert">
            {error}
          </p>
        )}
        <button
          className="button primary wide"
          type="submit"
          disabled={busy}
          data-testid={`${kind}-submit`}
        >
          {busy ? 'Please wait…' : setup ? 'Create account' : 'Sign in'}
        </button>
        {onSwitch && (
          <p className="auth-switch">
            {kind === 'login' ? 'No account yet? ' : 'Have an account? '}
            <button
              type="button"
              className="link-button"
              data-testid={kind === 'login' ? 'show-register' : 'show-login'}
              onClick={onSwitch}
            >
              {kind === 'login' ? 'Create one' : 'Sign in'}
            </button>
          </p>
        )}
      </form>
    </main>
  );
}

export function SetupScreen({ onDone }: { onDone: (user: User) => void }) {
  return <AuthForm kind="setup" onDone={onDone} />;
}

/** Sign-in; when an admin has opened registration, it offers to create an account. */
export function LoginScreen({
  onDone,
  registrationOpen = false,
}: {
  onDone: (user: User) => void;
  registrationOpen?: boolean;
}) {
  const [registering, setRegistering] = useState(false);
  if (registering && registrationOpen) {
    return (
      <AuthForm
        key="register"
        kind="register"
        onDone={onDone}
        onSwitch={() => setRegistering(false)}
      />
    );
  }
  return (
    <AuthForm
      key="login"
      kind="login"
      onDone={onDone}
      onSwitch={registrationOpen ? () => setRegistering(true) : undefined}
    />
  );
}
