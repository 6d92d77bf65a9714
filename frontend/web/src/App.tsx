import { lazy, Suspense, useCallback, useEffect, useState } from 'react';
import { errorText } from './lib/errors';
import { ApiError, api, UNAUTHORIZED_EVENT } from './api/client';
import type { User } from './api/types';
import { LoginScreen, SetupScreen } from './components/AuthScreens';

// The workspace (and the Markdown renderer) is a separate chunk: the sign-in and setup
// screens do not need it. It starts loading while the session is being checked.
const loadWorkspace = () => import('./components/Workspace');
const Workspace = lazy(loadWorkspace);

type Phase =
  | { kind: 'loading' }
  | { kind: 'setup' }
  | { kind: 'login'; registrationOpen: boolean }
  | { kind: 'ready'; user: User }
  | { kind: 'error'; message: string };

async function resolvePhase(): Promise<Phase> {
  const state = await api.authState();
  if (state.needsSetup) return { kind: 'setup' };
  void loadWorkspace().catch(() => undefined); // warm-up only; lazy() reports real failures
  try {
    const { user } = await api.me();
    return { kind: 'ready', user };
  } catch (err) {
    if (err instanceof ApiError && err.status === 401) {
      return { kind: 'login', registrationOpen: state.registrationOpen };
    }
    throw err;
  }
}

function Splash({ text }: { text: string }) {
  return (
    <div className="splash" role="status">
      {text}
    </div>
  );
}

export function App() {
  const [phase, setPhase] = useState<Phase>({ kind: 'loading' });

  const start = useCallback(() => {
    resolvePhase().then(setPhase, (err: unknown) => {
      setPhase({ kind: 'error', message: errorText(err) });
    });
  }, []);

  useEffect(() => {
    start();
  }, [start]);

  // Any API call that finds the session gone sends the user back to sign-in.
  useEffect(() => {
    const onUnauthorized = () => {
      setPhase({ kind: 'loading' });
      start();
    };
    window.addEventListener(UNAUTHORIZED_EVENT, onUnauthorized);
    return () => window.removeEventListener(UNAUTHORIZED_EVENT, onUnauthorized);
  }, [start]);

  const signedIn = useCallback((user: User) => setPhase({ kind: 'ready', user }), []);
  // Back to sign-in, asking again whether registration is open.
  const signedOut = useCallback(() => {
    setPhase({ kind: 'loading' });
    start();
  }, [start]);

  switch (phase.kind) {
    case 'loading':
      return <Splash text="Loading…" />;
    case 'setup':
      return <SetupScreen onDone={signedIn} />;
    case 'login':
      return <LoginScreen onDone={signedIn} registrationOpen={phase.registrationOpen} />;
    case 'error':
      return (
        <main className="auth">
          <div className="auth-card">
            <h1>Something went wrong</h1>
            <p className="form-error" role="alert">
              {phase.message}
            </p>
            <button
              type="button"
              className="button primary wide"
              onClick={() => {
                setPhase({ kind: 'loading' });
                start();
              }}
            >
              Try again
            </button>
          </div>
        </main>
      );
    case 'ready':
      return (
        <Suspense fallback={<Splash text="Loading…" />}>
          <Workspace key={phase.user.id} user={phase.user} onSignedOut={signedOut} />
        </Suspense>
      );
  }
}
