import { useCallback, useEffect, useMemo, useState, type FormEvent } from 'react';
import { api } from '../api/client';
import type {
  AdminUser,
  AuditEntry,
  AuditPage,
  Model,
  User,
  WorkspaceSettings,
} from '../api/types';
import { errorText } from '../lib/errors';
import { dateTime } from '../lib/people';
import { AdminBudgets } from './AdminBudgets';
import { whileMounted } from '../lib/whileMounted';

type Tab = 'users' | 'settings' | 'budgets' | 'audit';
const tabs: Array<[Tab, string]> = [
  ['users', 'Users'],
  ['settings', 'Registration and models'],
  ['budgets', 'Spending limits'],
  ['audit', 'Audit log'],
];

interface AdminPageProps {
  user: User;
  /** The full model catalog (admins see every model). */
  models: Model[];
}

/** Users, workspace settings and the audit log: the admin's page. */
export function AdminPage({ user, models }: AdminPageProps) {
  const [tab, setTab] = useState<Tab>('users');
  return (
    <div className="page" data-testid="admin-page">
      <div className="page-column wide">
        <h1 className="page-title">Administration</h1>
        <div className="tabs" role="tablist" aria-label="Administration">
          {tabs.map(([id, label]) => (
            <button
              key={id}
              type="button"
              role="tab"
              id={`tab-${id}`}
              aria-selected={tab === id}
              aria-controls={`panel-${id}`}
              className={`tab${tab === id ? ' current' : ''}`}
              data-testid={`admin-tab-${id}`}
              onClick={() => setTab(id)}
            >
              {label}
            </button>
          ))}
        </div>
        <div role="tabpanel" id={`panel-${tab}`} aria-labelledby={`tab-${tab}`}>
          {tab === 'users' && <Users me={user} />}
          {tab === 'settings' && <SettingsPanel models={models} />}
          {tab === 'budgets' && <AdminBudgets />}
          {tab === 'audit' && <AuditLog />}
        </div>
      </div>
    </div>
  );
}

// ---------- users ----------

function Users({ me }: { me: User }) {
  const [users, setUsers] = useState<AdminUser[] | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [notice, setNotice] = useState<string | null>(null);

  const reload = useCallback(async () => {
    try {
      setUsers((await api.admin.users()).users);
    } catch (err) {
      setError(errorText(err));
    }
  }, []);

  useEffect(
    () =>
      whileMounted(
        api.admin.users(),
        (res) => setUsers(res.users),
        (err) => setError(errorText(err)),
      ),
    [],
  );

  /** Runs one change, then shows its outcome and the list as it now is. */
  async function act(work: () => Promise<unknown>, done: string): Promise<boolean> {
    setError(null);
    setNotice(null);
    try {
      await work();
      setNotice(done);
      await reload();
      return true;
    } catch (err) {
      setError(errorText(err));
      return false;
    }
  }

  return (
    <>
      <CreateUser
        onCreate={(body) => act(() => api.admin.createUser(body), `User ${body.username} created.`)}
      />
      <section className="card" aria-labelledby="users-heading">
        <h2 id="users-heading">Users</h2>
        {error && (
          <p className="form-error" role="alert" data-testid="admin-error">
            {error}
          </p>
        )}
        {notice && (
          <p className="form-ok" role="status" data-testid="admin-notice">
            {notice}
          </p>
        )}
        {users === null && !error && <p className="muted">Loading…</p>}
        {users && (
          <div className="table-wrap">
            <table className="table">
              <thead>
                <tr>
                  <th scope="col">User</th>
                  <th scope="col">Role</th>
                  <th scope="col">Status</th>
                  <th scope="col">Last active</th>
                  <th scope="col">
                    <span className="visually-hidden">Actions</span>
                  </th>
                </tr>
              </thead>
              <tbody>
                {users.map((u) => (
                  <UserRow key={u.id} user={u} isMe={u.id === me.id} act={act} />
                ))}
              </tbody>
            </table>
          </div>
        )}
      </section>
    </>
  );
}

function CreateUser({
  onCreate,
}: {
  onCreate: (body: {
    username: string;
    password: string;
    role: 'user' | 'admin';
  }) => Promise<boolean>;
}) {
  const [username, setUsername] = useState('');
  const [password, setPassword] = useState('');
  const [role, setRole] = useState<'user' | 'admin'>('user');
  const [busy, setBusy] = useState(false);

  async function submit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    if (busy) return;
    setBusy(true);
    if (await onCreate({ username: username.trim(), password, role })) {
      setUsername('');
      setPassword('');
      setRole('user');
    }
    setBusy(false);
  }

  return (
    <section className="card" aria-labelledby="create-heading">
      <h2 id="create-heading">Add a user</h2>
      <form className="inline-form" onSubmit={(e) => void submit(e)}>
        <label className="field">
          <span>Username</span>
          <input
            required
            autoComplete="off"
            autoCapitalize="none"
            spellCheck={false}
            data-testid="new-user-username"
            value={username}
            onChange={(e) => setUsername(e.target.value)}
          />
        </label>
        <label className="field">
          <span>Password</span>
          <input
            required
            type="password"
            autoComplete="new-password"
            minLength={8}
            data-testid="new-user-password"
            value={password}
            onChange={(e) => setPassword(e.target.value)}
          />
        </label>
        <label className="field">
          <span>Role</span>
          <select
            data-testid="new-user-role"
            value={role}
            onChange={(e) => setRole(e.target.value === 'admin' ? 'admin' : 'user')}
          >
            <option value="user">User</option>
            <option value="admin">Administrator</option>
          </select>
        </label>
        <button type="submit" className="button primary" disabled={busy} data-testid="create-user">
          Add user
        </button>
      </form>
    </section>
  );
}

function UserRow({
  user,
  isMe,
  act,
}: {
  user: AdminUser;
  isMe: boolean;
  act: (work: () => Promise<unknown>, done: string) => Promise<boolean>;
}) {
  const [mode, setMode] = useState<'idle' | 'password' | 'delete'>('idle');
  const [password, setPassword] = useState('');
  const name = user.username;

  async function resetPassword(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    const ok = await act(
      () => api.admin.resetPassword(user.id, password),
      `New password set for ${name}; their sessions were signed out.`,
    );
    if (ok) {
      setPassword('');
      setMode('idle');
    }
  }

  return (
    <tr
      data-testid="user-row"
      data-username={name}
      data-disabled={user.disabled ? 'true' : 'false'}
    >
      <td>
        <strong>{name}</strong>
        {isMe && <span className="badge">You</span>}
        <div className="muted small">Since {dateTime(user.createdAt)}</div>
      </td>
      <td>
        <select
          aria-label={`Role of ${name}`}
          data-testid="user-role"
          value={user.role}
          onChange={(e) => {
            const role = e.target.value === 'admin' ? 'admin' : 'user';
            void act(
              () => api.admin.updateUser(user.id, { role }),
              `${name} is now ${role === 'admin' ? 'an administrator' : 'a user'}.`,
            ).then((ok) => {
              // Stepping down ends this page: start again from the chat, as a user.
              if (ok && isMe && role === 'user') window.location.assign('/');
            });
          }}
        >
          <option value="user">User</option>
          <option value="admin">Administrator</option>
        </select>
      </td>
      <td>
        {user.disabled ? (
          <span className="status-pill off">Disabled</span>
        ) : (
          <span className="status-pill on">Active</span>
        )}
      </td>
      <td className="muted small">
        {dateTime(user.lastSeenAt)}
        <div>
          {user.sessions} session{user.sessions === 1 ? '' : 's'}
        </div>
      </td>
      <td className="row-actions">
        {mode === 'idle' && (
          <>
            <button
              type="button"
              className="button small"
              data-testid={user.disabled ? 'enable-user' : 'disable-user'}
              onClick={() =>
                void act(
                  () => api.admin.updateUser(user.id, { disabled: !user.disabled }),
                  user.disabled ? `${name} is enabled.` : `${name} is disabled and signed out.`,
                )
              }
            >
              {user.disabled ? 'Enable' : 'Disable'}
            </button>
            <button
              type="button"
              className="button small"
              data-testid="reset-password"
              onClick={() => setMode('password')}
            >
              Set password
            </button>
            <button
              type="button"
              className="button small danger-outline"
              data-testid="delete-user"
              onClick={() => setMode('delete')}
            >
              Delete
            </button>
          </>
        )}
        {mode === 'password' && (
          <form className="row-form" onSubmit={(e) => void resetPassword(e)}>
            <input
              type="password"
              required
              minLength={8}
              autoComplete="new-password"
              aria-label={`New password for ${name}`}
              placeholder="New password"
              data-testid="reset-password-input"
              value={password}
              onChange={(e) => setPassword(e.target.value)}
            />
            <button
              type="submit"
              className="button small primary"
              data-testid="reset-password-save"
            >
              Save
            </button>
            <button type="button" className="button small" onClick={() => setMode('idle')}>
              Cancel
            </button>
          </form>
        )}
        {mode === 'delete' && (
          <div className="row-form">
            <span>Delete {name} and all their conversations?</span>
            <button
              type="button"
              className="button small danger"
              data-testid="confirm-delete-user"
              onClick={() =>
                void act(
                  () => api.admin.deleteUser(user.id),
                  `${name} and their data were deleted.`,
                ).then(() => setMode('idle'))
              }
            >
              Delete
            </button>
            <button type="button" className="button small" onClick={() => setMode('idle')}>
              Cancel
            </button>
          </div>
        )}
      </td>
    </tr>
  );
}

// ---------- settings ----------

function SettingsPanel({ models }: { models: Model[] }) {
  const [settings, setSettings] = useState<WorkspaceSettings | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [notice, setNotice] = useState<string | null>(null);
  const [restrict, setRestrict] = useState(false);
  const [chosen, setChosen] = useState<Set<string>>(new Set());
  const [query, setQuery] = useState('');
  const [saving, setSaving] = useState(false);

  const show = useCallback((next: WorkspaceSettings) => {
    setSettings(next);
    setRestrict(next.allowedModels !== null);
    setChosen(new Set(next.allowedModels ?? []));
  }, []);

  useEffect(() => {
    api.admin.settings().then(show, (err: unknown) => setError(errorText(err)));
  }, [show]);

  async function save(body: Parameters<typeof api.admin.updateSettings>[0], done: string) {
    const before = settings;
    setSaving(true);
    setError(null);
    setNotice(null);
    // The registration checkbox shows its new state at once; a failure puts it back.
    if (before && body.registrationOpen !== undefined) {
      setSettings({ ...before, registrationOpen: body.registrationOpen });
    }
    try {
      show(await api.admin.updateSettings(body));
      setNotice(done);
    } catch (err) {
      if (before) setSettings(before);
      setError(errorText(err));
    } finally {
      setSaving(false);
    }
  }

  // Every catalog model, plus allowed ids the catalog no longer lists (still shown, to remove).
  const listed = useMemo(() => {
    const ids = new Set(models.map((m) => m.id));
    const extra = [...chosen].filter((id) => !ids.has(id)).map((id) => ({ id, name: id }));
    const all = [...models.map((m) => ({ id: m.id, name: m.name })), ...extra];
    const q = query.trim().toLowerCase();
    return q === ''
      ? all
      : all.filter((m) => m.id.toLowerCase().includes(q) || m.name.toLowerCase().includes(q));
  }, [models, chosen, query]);

  function toggle(id: string) {
    setChosen((prev) => {
      const next = new Set(prev);
      if (next.has(id)) next.delete(id);
      else next.add(id);
      return next;
    });
  }

  if (!settings) {
    return error ? (
      <p className="form-error" role="alert">
        {error}
      </p>
    ) : (
      <p className="muted">Loading…</p>
    );
  }

  return (
    <>
      {error && (
        <p className="form-error" role="alert" data-testid="settings-error">
          {error}
        </p>
      )}
      {notice && (
        <p className="form-ok" role="status" data-testid="settings-notice">
          {notice}
        </p>
      )}
      <section className="card" aria-labelledby="registration-heading">
        <h2 id="registration-heading">Registration</h2>
        <label className="check">
          <input
            type="checkbox"
            data-testid="registration-open"
            checked={settings.registrationOpen}
            disabled={saving}
            onChange={(e) =>
              void save(
                { registrationOpen: e.target.checked },
                e.target.checked
                  ? 'Registration is open: the sign-in screen offers to create an account.'
                  : 'Registration is closed.',
              )
            }
          />
          <span>Anyone who can reach this workspace may create an account (as a user)</span>
        </label>
      </section>
      <section className="card" aria-labelledby="models-heading">
        <h2 id="models-heading">Models users may use</h2>
        <p className="page-lead">Administrators may always use every model.</p>
        <label className="check">
          <input
            type="radio"
            name="model-access"
            data-testid="models-all"
            checked={!restrict}
            onChange={() => setRestrict(false)}
          />
          <span>Every model</span>
        </label>
        <label className="check">
          <input
            type="radio"
            name="model-access"
            data-testid="models-some"
            checked={restrict}
            onChange={() => setRestrict(true)}
          />
          <span>Only the models chosen below ({chosen.size} chosen)</span>
        </label>
        {restrict && (
          <>
            <input
              className="search"
              type="search"
              placeholder="Search models"
              aria-label="Search models"
              data-testid="allowed-models-search"
              value={query}
              onChange={(e) => setQuery(e.target.value)}
            />
            <ul className="check-list" data-testid="allowed-models">
              {listed.map((m) => (
                <li key={m.id}>
                  <label className="check">
                    <input
                      type="checkbox"
                      data-testid="allowed-model"
                      data-model-id={m.id}
                      checked={chosen.has(m.id)}
                      onChange={() => toggle(m.id)}
                    />
                    <span>
                      {m.name} <span className="muted small">{m.id}</span>
                    </span>
                  </label>
                </li>
              ))}
              {listed.length === 0 && <li className="muted">No model matches.</li>}
            </ul>
          </>
        )}
        <div>
          <button
            type="button"
            className="button primary"
            disabled={saving}
            data-testid="save-allowed-models"
            onClick={() =>
              void save(
                { allowedModels: restrict ? [...chosen].sort() : null },
                restrict
                  ? `Users may use ${chosen.size} model${chosen.size === 1 ? '' : 's'}.`
                  : 'Users may use every model.',
              )
            }
          >
            Save model access
          </button>
        </div>
      </section>
    </>
  );
}

// ---------- audit log ----------

const actionNames: Record<string, string> = {
  'auth.sign_in': 'Signed in',
  'auth.sign_in_failed': 'Failed sign-in',
  'auth.sign_in_refused': 'Sign-in refused (disabled)',
  'auth.sign_out': 'Signed out',
  'auth.sign_out_all': 'Signed out everywhere',
  'auth.session_revoked': 'Revoked a session',
  'auth.password_changed': 'Changed their password',
  'user.created': 'User created',
  'user.disabled': 'User disabled',
  'user.enabled': 'User enabled',
  'user.deleted': 'User deleted',
  'user.role_changed': 'Role changed',
  'user.password_reset': 'Password set',
  'settings.registration': 'Registration changed',
  'settings.allowed_models': 'Model access changed',
};

function AuditLog() {
  const [entries, setEntries] = useState<AuditEntry[]>([]);
  const [cursor, setCursor] = useState<string | null>(null);
  const [loading, setLoading] = useState(true);
  const [done, setDone] = useState(false);
  const [error, setError] = useState<string | null>(null);

  const show = useCallback((page: AuditPage, from: string | null) => {
    setEntries((prev) => (from === null ? page.entries : [...prev, ...page.entries]));
    setCursor(page.nextCursor);
    setDone(page.nextCursor === null);
    setError(null);
    setLoading(false);
  }, []);
  const fail = useCallback((err: unknown) => {
    setError(errorText(err));
    setLoading(false);
  }, []);

  async function load(from: string | null) {
    setLoading(true);
    try {
      show(await api.admin.audit(from), from);
    } catch (err) {
      fail(err);
    }
  }

  useEffect(
    () => whileMounted(api.admin.audit(null), (page) => show(page, null), fail),
    [show, fail],
  );

  return (
    <section className="card" aria-labelledby="audit-heading">
      <div className="card-header">
        <h2 id="audit-heading">Audit log</h2>
        <button
          type="button"
          className="button small"
          disabled={loading}
          onClick={() => void load(null)}
        >
          Refresh
        </button>
      </div>
      {error && (
        <p className="form-error" role="alert">
          {error}
        </p>
      )}
      <div className="table-wrap">
        <table className="table" data-testid="audit-table">
          <thead>
            <tr>
              <th scope="col">When</th>
              <th scope="col">What</th>
              <th scope="col">Who</th>
              <th scope="col">Whom</th>
              <th scope="col">Details</th>
              <th scope="col">Address</th>
            </tr>
          </thead>
          <tbody>
            {entries.map((e) => (
              <tr key={e.id} data-testid="audit-row" data-action={e.action}>
                <td className="small nowrap">{dateTime(e.at)}</td>
                <td>
                  {actionNames[e.action] ?? e.action}
                  <div className="muted small mono">{e.action}</div>
                </td>
                <td>
                  {e.actorUsername ??
                    (e.actorId ? <span className="muted">deleted user</span> : '—')}
                </td>
                <td>
                  {e.targetUsername ??
                    (typeof e.detail?.username === 'string' ? (
                      e.detail.username
                    ) : e.targetUserId ? (
                      <span className="muted">deleted user</span>
                    ) : (
                      '—'
                    ))}
                </td>
                <td className="small mono detail">{e.detail ? JSON.stringify(e.detail) : ''}</td>
                <td className="small mono">{e.ip ?? ''}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
      {entries.length === 0 && !loading && !error && <p className="muted">Nothing recorded yet.</p>}
      {!done && (
        <div>
          <button
            type="button"
            className="button small"
            disabled={loading}
            data-testid="audit-more"
            onClick={() => void load(cursor)}
          >
            {loading ? 'Loading…' : 'Load more'}
          </button>
        </div>
      )}
    </section>
  );
}
