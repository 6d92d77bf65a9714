import { useCallback, useEffect, useMemo, useRef, useState } from 'react';
import { api } from '../api/client';
import type { Conversation, Health, Model, User } from '../api/types';
import { errorText } from '../lib/errors';
import { titleFrom } from '../lib/format';
import { conversationIdFrom, conversationPath, navigate, pageOf, usePath } from '../lib/router';
import { useStableCallback } from '../lib/stableCallback';
import { activePath } from '../lib/thread';
import { useChats } from '../state/chat';
import { useConversationList } from '../state/conversations';
import { AccountPage } from './AccountPage';
import { AdminPage } from './AdminPage';
import { ChatView } from './ChatView';
import { ConversationExport } from './ConversationExport';
import { Composer } from './Composer';
import { MenuIcon } from './icons';
import { ModelPicker } from './ModelPicker';
import { Sidebar } from './Sidebar';

const LAST_MODEL_KEY = 'lastModel';
const NEW_CHAT = 'new';

function readLastModel(): string | null {
  try {
    return window.localStorage.getItem(LAST_MODEL_KEY);
  } catch {
    return null;
  }
}

function saveLastModel(id: string): void {
  try {
    window.localStorage.setItem(LAST_MODEL_KEY, id);
  } catch {
    // Storage may be unavailable (private mode); the choice just is not remembered.
  }
}

const messageOf = errorText;

interface WorkspaceProps {
  user: User;
  onSignedOut: () => void;
}

export default function Workspace({ user, onSignedOut }: WorkspaceProps) {
  const path = usePath();
  const routeId = conversationIdFrom(path);
  const page = pageOf(path);
  const list = useConversationList();
  const { upsert } = list;
  const [meta, setMeta] = useState<Record<string, Conversation>>({});
  const onConversation = useCallback(
    (conversation: Conversation) => {
      setMeta((prev) => ({ ...prev, [conversation.id]: conversation }));
      upsert(conversation);
    },
    [upsert],
  );
  const chats = useChats(onConversation);
  const { load, isRunning } = chats;

  const [models, setModels] = useState<Model[]>([]);
  const [modelsLoading, setModelsLoading] = useState(true);
  const [modelsError, setModelsError] = useState<string | null>(null);
  const [health, setHealth] = useState<Health | null>(null);
  /** Whether this user saved an OpenRouter key of their own (asked only when the server has none). */
  const [ownKey, setOwnKey] = useState(false);
  const [sidebarOpen, setSidebarOpen] = useState(false);
  const [drafts, setDrafts] = useState<Record<string, string>>({});
  const [sending, setSending] = useState(false);
  const [newChatModel, setNewChatModel] = useState<string | null>(null);
  const [newChatError, setNewChatError] = useState<string | null>(null);
  const [modelError, setModelError] = useState<string | null>(null);
  const createdHere = useRef(new Set<string>());

  useEffect(() => {
    let live = true;
    api.models().then(
      (res) => {
        if (!live) return;
        setModels(res.models);
        setModelsLoading(false);
      },
      (err: unknown) => {
        if (!live) return;
        setModelsError(messageOf(err));
        setModelsLoading(false);
      },
    );
    api.health().then(
      (res) => {
        if (!live) return;
        setHealth(res);
        if (!res.upstreamKeyConfigured) {
          api.openRouterKey().then(
            (state) => live && setOwnKey(state.key !== null),
            () => undefined,
          );
        }
      },
      () => undefined,
    );
    return () => {
      live = false;
    };
  }, []);

  // Opening a conversation loads it, unless this tab just created it or is streaming into it.
  useEffect(() => {
    if (routeId === null) return;
    if (createdHere.current.has(routeId)) {
      createdHere.current.delete(routeId);
      return;
    }
    if (isRunning(routeId)) return;
    const controller = new AbortController();
    void load(routeId, controller.signal);
    return () => controller.abort();
  }, [routeId, load, isRunning]);

  const conversation = routeId ? meta[routeId] : undefined;
  useEffect(() => {
    document.title = conversation?.title ? `${conversation.title} · AI Chat` : 'AI Chat';
  }, [conversation?.title]);

  const defaultModel = useMemo(() => {
    const last = readLastModel();
    if (last && models.some((m) => m.id === last)) return last;
    return models[0]?.id ?? null;
  }, [models]);
  const currentModel = routeId
    ? (conversation?.model ?? defaultModel)
    : (newChatModel ?? defaultModel);

  const key = routeId ?? NEW_CHAT;
  const thread = routeId ? chats.threads[routeId] : undefined;
  const messages = useMemo(() => activePath(thread?.messages ?? []), [thread?.messages]);
  const run = routeId ? chats.running[routeId] : undefined;
  const draft = drafts[key] ?? '';

  const setDraft = useCallback(
    (value: string) => setDrafts((prev) => ({ ...prev, [key]: value })),
    [key],
  );

  function changeModel(id: string) {
    saveLastModel(id);
    setModelError(null);
    if (!routeId) {
      setNewChatModel(id);
      return;
    }
    const current = meta[routeId];
    if (current) setMeta((prev) => ({ ...prev, [routeId]: { ...current, model: id } }));
    api.updateConversation(routeId, { model: id }).then(onConversation, (err: unknown) => {
      setModelError(`Could not change the model: ${messageOf(err)}`);
    });
  }

  async function send() {
    const content = draft;
    if (content.trim() === '' || sending) return;
    setSending(true);
    setNewChatError(null);
    const model = currentModel;
    let cid = routeId;
    if (cid === null) {
      try {
        const created = await api.createConversation({
          title: titleFrom(content),
          ...(model ? { model } : {}),
        });
        cid = created.id;
        createdHere.current.add(cid);
        chats.initThread(cid);
        onConversation(created);
        const id = cid;
        setDrafts((prev) => ({ ...prev, [id]: content, [NEW_CHAT]: '' }));
        setNewChatModel(null);
        navigate(conversationPath(cid));
      } catch (err) {
        setNewChatError(messageOf(err));
        setSending(false);
        return;
      }
    }
    const id = cid;
    const last = activePath(chats.threads[id]?.messages ?? [])
      .filter((m) => !m.pending)
      .at(-1);
    await chats.send({
      conversationId: id,
      content,
      model,
      parentId: last?.id ?? null,
      onOpen: () => {
        setSending(false);
        setDrafts((prev) => ({ ...prev, [id]: '' }));
      },
    });
    setSending(false);
  }

  function openConversation(id: string) {
    setSidebarOpen(false);
    navigate(conversationPath(id));
  }

  function openPage(target: string) {
    setSidebarOpen(false);
    navigate(target);
  }

  function newChat() {
    setSidebarOpen(false);
    setNewChatError(null);
    navigate('/');
  }

  async function deleteConversation(id: string) {
    await api.deleteConversation(id);
    list.remove(id);
    chats.forget(id);
    if (routeId === id) navigate('/', { replace: true });
  }

  async function signOut() {
    try {
      await api.logout();
    } catch {
      // Signed out locally either way; the cookie expires on its own.
    }
    onSignedOut();
  }

  const sendError = routeId ? (thread?.sendError ?? null) : newChatError;

  // Stable handlers: the sidebar, model picker and composer are not rendered again while an
  // answer streams into the conversation (that renders the workspace once per frame).
  const onSelect = useStableCallback(openConversation);
  const onNew = useStableCallback(newChat);
  const onDelete = useStableCallback(deleteConversation);
  const onSignOut = useStableCallback(() => void signOut());
  const onOpenPage = useStableCallback(openPage);
  const onModelChange = useStableCallback(changeModel);
  const onSubmit = useStableCallback(() => void send());
  const onStop = useStableCallback(() => {
    if (routeId) void chats.stop(routeId);
  });

  return (
    <div className="workspace">
      <Sidebar
        list={list}
        currentId={routeId}
        user={user}
        open={sidebarOpen}
        onSelect={onSelect}
        onNew={onNew}
        onDelete={onDelete}
        onSignOut={onSignOut}
        onOpenPage={onOpenPage}
        page={page}
      />
      {sidebarOpen && (
        <div className="scrim" aria-hidden="true" onClick={() => setSidebarOpen(false)} />
      )}
      <main className="main">
        {page !== 'chat' && (
          <>
            <header className="topbar">
              <button
                type="button"
                className="icon-button menu-button"
                aria-label="Show conversations"
                onClick={() => setSidebarOpen(true)}
              >
                <MenuIcon />
              </button>
              <span className="topbar-title">
                {page === 'admin' ? 'Administration' : 'Account'}
              </span>
            </header>
            {page === 'account' && (
              <AccountPage user={user} onSignedOut={onSignedOut} onImported={list.reload} />
            )}
            {page === 'admin' &&
              (user.role === 'admin' ? (
                <AdminPage user={user} models={models} />
              ) : (
                <div className="page">
                  <p className="form-error" role="alert">
                    Only an administrator can open this page.
                  </p>
                </div>
              ))}
          </>
        )}
        {page === 'chat' && (
          <>
            <header className="topbar">
              <button
                type="button"
                className="icon-button menu-button"
                aria-label="Show conversations"
                onClick={() => setSidebarOpen(true)}
              >
                <MenuIcon />
              </button>
              <ModelPicker
                models={models}
                value={currentModel}
                onChange={onModelChange}
                loading={modelsLoading}
                error={modelsError}
              />
              <span className="topbar-title">{conversation?.title ?? ''}</span>
              {routeId && <ConversationExport conversationId={routeId} />}
            </header>
            {health && !health.upstreamKeyConfigured && !ownKey && (
              <div className="notice" data-testid="no-key-notice" role="status">
                <strong>No OpenRouter API key is configured.</strong> Set OPENROUTER_API_KEY in the
                backend&apos;s environment and restart it. Or add a key of your own on your Account
                page.
              </div>
            )}
            {modelError && (
              <div className="notice error" role="alert">
                {modelError}
              </div>
            )}
            <ChatView
              conversationKey={key}
              messages={messages}
              models={models}
              loading={thread?.loading ?? false}
              loadError={thread?.loadError ?? null}
              sendError={sendError}
            />
            <div className="composer-wrap">
              <Composer
                value={draft}
                onChange={setDraft}
                onSubmit={onSubmit}
                onStop={onStop}
                streaming={run !== undefined}
                stopping={run?.stopping ?? false}
                sending={sending}
              />
              <p className="composer-hint">Enter to send · Shift+Enter for a new line</p>
            </div>
          </>
        )}
      </main>
    </div>
  );
}
