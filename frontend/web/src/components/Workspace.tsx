import {
  lazy,
  Suspense,
  useCallback,
  useEffect,
  useMemo,
  useRef,
  useState,
  type DragEvent,
} from 'react';
import { api } from '../api/client';
import type {
  Attachment,
  Comparison,
  Conversation,
  Health,
  Model,
  ModelPreferences,
  Preset,
  SearchHit,
  UpdateConversationBody,
  User,
} from '../api/types';
import { preloadEnhancers } from '../lib/enhance';
import { errorText } from '../lib/errors';
import { titleFrom } from '../lib/format';
import {
  conversationIdFrom,
  conversationPath,
  isTemporaryPath,
  navigate,
  pageOf,
  subscribePath,
  TEMPORARY_PATH,
  usePath,
} from '../lib/router';
import { isTyping, shortcutOf } from '../lib/shortcuts';
import { useStableCallback } from '../lib/stableCallback';
import { nextThemeChoice, useTheme, type ThemeChoice } from '../lib/theme';
import { activePath, branchOf, choicesShowing, ROOT_FORK, type Choices } from '../lib/thread';
import { readChoices, saveChoices } from '../lib/branches';
import { TEMPORARY, useChats, type Thread, type ViewMessage } from '../state/chat';
import { useAttachmentDrafts, type DraftAttachment } from '../state/attachments';
import { useConversationList } from '../state/conversations';
import { useFolders } from '../state/folders';
import { usePresets } from '../state/presets';
import { AccountPage } from './AccountPage';
import { AdminPage } from './AdminPage';
import { ChatView } from './ChatView';
import { CompareBar, compareProblem } from './CompareBar';
import type { CompareActions, CompareGroupData } from './CompareView';
import { ConversationExport } from './ConversationExport';
import type { MessageActions } from './MessageView';
import { Composer } from './Composer';
import { ConversationSettings, type RoutingSettings } from './ConversationSettings';
import { GhostIcon, KeyboardIcon, MenuIcon, MonitorIcon, MoonIcon, SunIcon } from './icons';
import { ModelPicker } from './ModelPicker';
import { PresetMenu, type CurrentSettings } from './PresetMenu';
import { NO_PROMPT, PromptSettings, type PromptValue } from './PromptSettings';
import { ShortcutsDialog } from './ShortcutsDialog';
import { Sidebar } from './Sidebar';

// The usage page and its charts are chunks of their own: nobody needs them to chat.
const UsagePage = lazy(() => import('./UsagePage'));

const LAST_MODEL_KEY = 'lastModel';
/** While the title model names a conversation: how often to read it again, and how many times at most. */
const TITLE_POLL_MS = 700;
const TITLE_POLLS = 40;
const NEW_CHAT = 'new';
const NO_FILES: DraftAttachment[] = [];
const NO_ROUTING: RoutingSettings = { fallbackModels: [], providerRouting: null };
const NO_PREFERENCES: ModelPreferences = { favorites: [], defaultModel: null };
const DISCARD_TEMPORARY =
  'Discard this temporary chat? It is not saved anywhere: its messages will be gone.';

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

/**
 * A local choice of "no version in particular" at a fork whose comparison has a chosen answer:
 * the newest version shows there (a regenerate's), not the chosen one. Matches no message id.
 */
const NEWEST = '';

/** The answer chosen at each compared question (the backend's record), by question id. */
function chosenOf(thread: Thread | undefined): Record<string, string> {
  const chosen: Record<string, string> = {};
  for (const c of thread?.comparisons ?? [])
    if (c.chosenId !== null) chosen[c.questionId] = c.chosenId;
  return chosen;
}

/** Each comparison of the thread with its answers, in the order of its models. */
function compareGroups(thread: Thread | undefined): Map<string, CompareGroupData> {
  const groups = new Map<string, CompareGroupData>();
  if (!thread || thread.comparisons.length === 0) return groups;
  const byId = new Map(thread.messages.map((m) => [m.id, m]));
  for (const comparison of thread.comparisons) {
    const answers = comparison.answerIds.flatMap((id) => {
      const answer = byId.get(id);
      return answer ? [answer] : [];
    });
    if (answers.length > 0) groups.set(comparison.id, { comparison, answers });
  }
  return groups;
}

const THEME_LABEL: Record<ThemeChoice, string> = {
  system: 'Theme: system',
  light: 'Theme: light',
  dark: 'Theme: dark',
};

function ThemeIcon({ choice }: { choice: ThemeChoice }) {
  if (choice === 'light') return <SunIcon />;
  if (choice === 'dark') return <MoonIcon />;
  return <MonitorIcon />;
}

/** The search box of the sidebar, if it has one; else the model picker's filter. */
function focusSearch(): boolean {
  const box = document.querySelector<HTMLInputElement>(
    '.sidebar input[type="search"], .sidebar [role="searchbox"], .sidebar [role="combobox"]',
  );
  if (box) {
    box.focus();
    box.select();
    return true;
  }
  document.querySelector<HTMLButtonElement>('[data-testid="model-picker"]')?.click();
  return false;
}

interface WorkspaceProps {
  user: User;
  onSignedOut: () => void;
}

export default function Workspace({ user, onSignedOut }: WorkspaceProps) {
  const path = usePath();
  const routeId = conversationIdFrom(path);
  const page = pageOf(path);
  /** The temporary chat: messages in this tab's memory only, stored nowhere. */
  const temporary = isTemporaryPath(path);
  const list = useConversationList();
  const folders = useFolders();
  const presets = usePresets();
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
  /** Per conversation: a message typed while its answer streamed, sent when the answer ends. */
  const [queued, setQueued] = useState<Record<string, string>>({});
  const [helpOpen, setHelpOpen] = useState(false);
  const [theme, setTheme] = useTheme();
  const composerRef = useRef<HTMLTextAreaElement>(null);
  const files = useAttachmentDrafts();
  /** Files dragged over the chat: the drop zone shows (a count, as enter/leave nest). */
  const [dragDepth, setDragDepth] = useState(0);
  const [preferences, setPreferences] = useState<ModelPreferences>(NO_PREFERENCES);
  /** Fallbacks and provider routing chosen before the new conversation exists. */
  const [newChatRouting, setNewChatRouting] = useState<RoutingSettings>(NO_ROUTING);
  /** The system prompt and parameters chosen before the new conversation exists. */
  const [newChatPrompt, setNewChatPrompt] = useState<PromptValue>(NO_PROMPT);
  /** The preset the new conversation starts from (its name, shown on the Presets button). */
  const [newChatPreset, setNewChatPreset] = useState<string | null>(null);
  const createdHere = useRef(new Set<string>());
  /** The message a search result opened: scrolled to and highlighted. */
  const [focus, setFocus] = useState<{ conversationId: string; messageId: string } | null>(null);
  /** The same, while its branch is to be shown: until the reader picks another version. */
  const [reveal, setReveal] = useState<typeof focus>(null);
  const [titlePolls, setTitlePolls] = useState(0);
  /** The branch chosen at each fork, per conversation (kept in localStorage too). */
  const [choiceMap, setChoiceMap] = useState<Record<string, Choices>>({});
  /** Compare mode: the models of the next question, one per slot; null when off. */
  const [compareSlots, setCompareSlots] = useState<Array<string | null> | null>(null);

  useEffect(() => {
    let live = true;
    // Highlighting and math chunks: fetched while the browser is otherwise idle.
    const idle = window.setTimeout(preloadEnhancers, 1500);
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
    api.modelPreferences().then(
      (res) => live && setPreferences(res),
      () => undefined,
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
      window.clearTimeout(idle);
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

  // The title model names a new conversation after its first answer: read it again until done.
  const pendingTitles = useMemo(
    () =>
      Object.values(meta)
        .filter((c) => c.titlePending)
        .map((c) => c.id)
        .join(' '),
    [meta],
  );
  useEffect(() => {
    if (pendingTitles === '' || titlePolls >= TITLE_POLLS) return;
    const timer = setTimeout(() => {
      const reads = pendingTitles.split(' ').map((id) =>
        api.getConversation(id).then(
          (detail) => onConversation(detail.conversation),
          () => undefined,
        ),
      );
      void Promise.all(reads).then(() => setTitlePolls((n) => n + 1));
    }, TITLE_POLL_MS);
    return () => clearTimeout(timer);
  }, [pendingTitles, titlePolls, onConversation]);

  const conversation = routeId ? meta[routeId] : undefined;
  useEffect(() => {
    document.title = temporary
      ? 'Temporary chat · AI Chat'
      : conversation?.title
        ? `${conversation.title} · AI Chat`
        : 'AI Chat';
  }, [conversation?.title, temporary]);

  // A new conversation gets the user's default model, else the one they used last.
  const defaultModel = useMemo(() => {
    const chosen = preferences.defaultModel;
    if (chosen && models.some((m) => m.id === chosen)) return chosen;
    const last = readLastModel();
    if (last && models.some((m) => m.id === last)) return last;
    return models[0]?.id ?? null;
  }, [models, preferences.defaultModel]);
  const currentModel = routeId
    ? (conversation?.model ?? defaultModel)
    : (newChatModel ?? defaultModel);

  const key = temporary ? TEMPORARY : (routeId ?? NEW_CHAT);
  const thread = temporary
    ? chats.threads[TEMPORARY]
    : routeId
      ? chats.threads[routeId]
      : undefined;
  // A search result on a branch not shown: the ‹ n/m › choice at each fork above it is the
  // way to it, over the remembered choices, until the reader chooses otherwise (choose()).
  const revealed = useMemo(
    () =>
      reveal && reveal.conversationId === routeId && thread
        ? choicesShowing(thread.messages, reveal.messageId)
        : null,
    [reveal, routeId, thread],
  );
  // The versions shown: a comparison's chosen answer by default, what this browser picked over it.
  const choices = useMemo(() => {
    const remembered = routeId ? (choiceMap[routeId] ?? readChoices(routeId)) : {};
    const picked = { ...chosenOf(thread), ...remembered };
    return revealed ? { ...picked, ...revealed } : picked;
  }, [routeId, choiceMap, revealed, thread]);
  const groups = useMemo(() => compareGroups(thread), [thread]);
  const branch = useMemo(
    () => branchOf(thread?.messages ?? [], choices),
    [thread?.messages, choices],
  );
  const messages = branch.path;
  /** The thread answers stream into: the temporary chat's, or the open conversation's. */
  const runKey = temporary ? TEMPORARY : routeId;
  const run = runKey === null ? undefined : chats.running[runKey];

  // The temporary chat holds something to lose: its messages, or an answer being written.
  const temporaryThread = chats.threads[TEMPORARY];
  const temporaryHeld =
    (temporaryThread?.messages.length ?? 0) > 0 || chats.running[TEMPORARY] !== undefined;
  const { forget } = chats;

  /** Drops the temporary chat: its messages, its answer (stopped with its stream), its queue. */
  const discardTemporary = useCallback(() => {
    forget(TEMPORARY);
    setQueued((prev) => {
      if (!(TEMPORARY in prev)) return prev;
      const next = { ...prev };
      delete next[TEMPORARY];
      return next;
    });
    setDrafts((prev) => (prev[TEMPORARY] ? { ...prev, [TEMPORARY]: '' } : prev));
  }, [forget]);

  const temporaryHeldRef = useRef(temporaryHeld);
  useEffect(() => {
    temporaryHeldRef.current = temporaryHeld;
  }, [temporaryHeld]);

  // Leaving the temporary chat discards it: asked first when it holds something. Every way out
  // (the sidebar, the back button, a shortcut) is a change of path, so it is checked as the
  // path changes, before the next screen renders; a "no" goes straight back to it, untouched.
  useEffect(() => {
    let last = window.location.pathname;
    return subscribePath(() => {
      const now = window.location.pathname;
      const left = isTemporaryPath(last) && !isTemporaryPath(now);
      last = now;
      if (!left) return;
      if (temporaryHeldRef.current && !window.confirm(DISCARD_TEMPORARY)) {
        navigate(TEMPORARY_PATH);
        return;
      }
      discardTemporary();
    });
  }, [discardTemporary]);

  // Closing or reloading the tab loses it too: the browser asks first.
  useEffect(() => {
    if (!temporaryHeld) return;
    const onBeforeUnload = (event: BeforeUnloadEvent) => {
      event.preventDefault();
      // Older browsers ask only when returnValue is set.
      event.returnValue = '';
    };
    window.addEventListener('beforeunload', onBeforeUnload);
    return () => window.removeEventListener('beforeunload', onBeforeUnload);
  }, [temporaryHeld]);
  const draft = drafts[key] ?? '';
  const attached = files.drafts[key] ?? NO_FILES;
  const chosenModel = models.find((m) => m.id === currentModel);
  const attachmentWarning =
    chosenModel &&
    !chosenModel.inputModalities.includes('image') &&
    attached.some(
      (a) =>
        a.status !== 'failed' && (a.attachment ? a.attachment.kind === 'image' : a.looksLikeImage),
    )
      ? `${chosenModel.name} does not accept images: choose a model with image input, or remove the image.`
      : null;

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

  function toggleFavorite(modelId: string, favorite: boolean) {
    setModelError(null);
    setPreferences((prev) => ({
      ...prev,
      favorites: favorite
        ? [...prev.favorites.filter((id) => id !== modelId), modelId]
        : prev.favorites.filter((id) => id !== modelId),
    }));
    api.setFavoriteModel(modelId, favorite).then(setPreferences, (err: unknown) => {
      setModelError(`Could not change your favourites: ${messageOf(err)}`);
      api.modelPreferences().then(setPreferences, () => undefined);
    });
  }

  function setDefault(modelId: string | null) {
    setModelError(null);
    api.setDefaultModel(modelId).then(setPreferences, (err: unknown) => {
      setModelError(`Could not set your default model: ${messageOf(err)}`);
    });
  }

  async function savePrompt(value: PromptValue): Promise<void> {
    if (!routeId) {
      setNewChatPrompt(value);
      return;
    }
    onConversation(await api.updateConversation(routeId, value));
  }

  /**
   * A preset's model, system prompt and parameters: for the chat about to start, or applied to
   * the open conversation (its model only when the preset names one).
   */
  async function applyPreset(preset: Preset): Promise<void> {
    const prompt = { systemPrompt: preset.systemPrompt, params: preset.params };
    if (!routeId) {
      if (preset.model) setNewChatModel(preset.model);
      setNewChatPrompt(prompt);
      setNewChatPreset(preset.name);
      return;
    }
    onConversation(
      await api.updateConversation(routeId, {
        ...prompt,
        ...(preset.model ? { model: preset.model } : {}),
      }),
    );
  }

  async function saveRouting(settings: RoutingSettings): Promise<void> {
    if (!routeId) {
      setNewChatRouting(settings);
      return;
    }
    onConversation(await api.updateConversation(routeId, settings));
  }

  /** Compare mode, in a conversation (a temporary chat has none to keep a comparison in). */
  const comparing = compareSlots !== null && !temporary;
  /** The models of a comparison ready to send, or null (compare mode off, or slots not ready). */
  const compareModels =
    comparing && compareProblem(compareSlots) === null
      ? compareSlots.filter((m): m is string => m !== null)
      : null;

  function toggleCompare() {
    if (compareSlots !== null) {
      setCompareSlots(null);
      return;
    }
    // The current model and another one: a favourite first, else the next in the catalog.
    const first = currentModel;
    const second =
      preferences.favorites.find((id) => id !== first && models.some((m) => m.id === id)) ??
      models.find((m) => m.id !== first)?.id ??
      null;
    setCompareSlots([first, second]);
    composerRef.current?.focus();
  }

  /** Enter in the composer: sends, or queues while this conversation's answer streams. */
  function submit() {
    const content = draft;
    const ready = attached.flatMap((a) =>
      a.status === 'ready' && a.attachment ? [a.attachment] : [],
    );
    if (content.trim() === '' && ready.length === 0) return;
    if (attached.some((a) => a.status === 'uploading') || attachmentWarning) return;
    if (comparing) {
      // A comparison is not queued: it is sent once its models are picked and nothing runs.
      if (compareModels === null || run !== undefined) return;
      void send(routeId, content, true, ready, compareModels);
      return;
    }
    if (run !== undefined) {
      // Files wait in the box for the answer's end: only text is queued.
      if (attached.length > 0) return;
      const id = key;
      setQueued((prev) => ({ ...prev, [id]: prev[id] ? `${prev[id]}\n\n${content}` : content }));
      setDraft('');
      return;
    }
    void send(temporary ? TEMPORARY : routeId, content, true, ready);
  }

  /** A question of the temporary chat: sent with the chat so far, stored nowhere. */
  async function sendTemporary(content: string, fromDraft: boolean) {
    const model = newChatModel ?? defaultModel;
    if (!model) {
      setNewChatError('Choose a model first.');
      return;
    }
    setSending(true);
    setNewChatError(null);
    const history = activePath(chats.threads[TEMPORARY]?.messages ?? []).filter((m) => !m.pending);
    const accepted = await chats.sendTemporary(
      {
        content,
        model,
        fallbackModels: newChatRouting.fallbackModels,
        providerRouting: newChatRouting.providerRouting,
        // The Prompt menu's settings, as a new conversation would get them.
        systemPrompt: newChatPrompt.systemPrompt,
        params: newChatPrompt.params,
        onOpen: () => {
          setSending(false);
          if (fromDraft) setDrafts((prev) => ({ ...prev, [TEMPORARY]: '' }));
        },
      },
      history,
    );
    setSending(false);
    if (!accepted && !fromDraft) {
      setDrafts((prev) => ({
        ...prev,
        [TEMPORARY]: prev[TEMPORARY] ? `${content}\n\n${prev[TEMPORARY]}` : content,
      }));
    }
  }

  /**
   * Sends `content` to conversation `target` (a new one when null). From the composer
   * (`fromDraft`), the draft is cleared once the backend accepts the message; a queued message
   * that is refused goes back into the message box.
   */
  async function send(
    target: string | null,
    content: string,
    fromDraft: boolean,
    attachments: Attachment[] = [],
    /** Compare mode: the question goes to these models at once. */
    compared?: string[],
  ) {
    if ((content.trim() === '' && attachments.length === 0) || sending) return;
    if (target === TEMPORARY) {
      await sendTemporary(content, fromDraft);
      return;
    }
    setSending(true);
    setNewChatError(null);
    const model =
      compared?.[0] ?? (target === null ? currentModel : (meta[target]?.model ?? currentModel));
    let cid = target;
    if (cid === null) {
      try {
        // Untitled: the send names it from the question (provisional), then the title model.
        const created = await api.createConversation({
          ...(model ? { model } : {}),
          ...(newChatRouting.fallbackModels.length > 0
            ? { fallbackModels: newChatRouting.fallbackModels }
            : {}),
          ...(newChatRouting.providerRouting
            ? { providerRouting: newChatRouting.providerRouting }
            : {}),
          ...(newChatPrompt.systemPrompt ? { systemPrompt: newChatPrompt.systemPrompt } : {}),
          ...(Object.keys(newChatPrompt.params).length > 0 ? { params: newChatPrompt.params } : {}),
        });
        cid = created.id;
        createdHere.current.add(cid);
        chats.initThread(cid);
        setTitlePolls(0);
        // Shown until the conversation is read again after the answer.
        onConversation({ ...created, title: titleFrom(content || (attachments[0]?.name ?? '')) });
        const id = cid;
        if (fromDraft) setDrafts((prev) => ({ ...prev, [id]: content, [NEW_CHAT]: '' }));
        files.move(NEW_CHAT, id);
        setNewChatModel(null);
        setNewChatRouting(NO_ROUTING);
        setNewChatPrompt(NO_PROMPT);
        setNewChatPreset(null);
        navigate(conversationPath(cid));
      } catch (err) {
        setNewChatError(messageOf(err));
        setSending(false);
        return;
      }
    }
    const id = cid;
    // The branch shown in that conversation (a queued message may go to another one).
    const last = branchOf(chats.threads[id]?.messages ?? [], choicesOf(id))
      .path.filter((m) => !m.pending)
      .at(-1);
    const request = {
      conversationId: id,
      content,
      parentId: last?.id ?? null,
      attachments,
      onOpen: () => {
        setSending(false);
        if (fromDraft) setDrafts((prev) => ({ ...prev, [id]: '' }));
        if (attachments.length > 0)
          files.sent(
            id,
            attachments.map((a) => a.id),
          );
      },
    };
    const accepted = compared
      ? await chats.compare({ ...request, models: compared })
      : await chats.send({ ...request, model });
    setSending(false);
    if (!accepted && !fromDraft) {
      // Refused (the reason is shown): the text goes back into the box rather than being lost.
      setDrafts((prev) => ({ ...prev, [id]: prev[id] ? `${content}\n\n${prev[id]}` : content }));
    }
  }

  /** Sends the queued message of a conversation whose answer has ended, if there is one. */
  const sendQueued = useStableCallback(() => {
    if (sending) return;
    const ready = Object.keys(queued).find((id) => chats.running[id] === undefined);
    if (ready === undefined) return;
    const content = queued[ready] ?? '';
    setQueued((prev) => {
      const next = { ...prev };
      delete next[ready];
      return next;
    });
    void send(ready, content, false);
  });
  useEffect(() => {
    sendQueued();
  }, [queued, chats.running, sending, sendQueued]);

  function editQueued() {
    const text = queued[key];
    if (text === undefined) return;
    const id = key;
    setQueued((prev) => {
      const next = { ...prev };
      delete next[id];
      return next;
    });
    setDrafts((prev) => ({ ...prev, [id]: prev[id] ? `${text}\n\n${prev[id]}` : text }));
    composerRef.current?.focus();
  }

  function cancelQueued() {
    const id = key;
    setQueued((prev) => {
      const next = { ...prev };
      delete next[id];
      return next;
    });
  }

  /** The versions shown in a conversation: a comparison's chosen answer, else this browser's pick. */
  function choicesOf(cid: string): Choices {
    return { ...chosenOf(chats.threads[cid]), ...(choiceMap[cid] ?? readChoices(cid)) };
  }

  /** Shows `id` at the fork `fork` (null: drops the choice, so the newest branch shows). */
  function choose(cid: string, fork: string, id: string | null) {
    // The branch a search result revealed becomes the remembered one, then this choice applies.
    const shown = cid === routeId ? revealed : null;
    const chosen = chosenOf(chats.threads[cid]);
    setReveal(null);
    setChoiceMap((prev) => {
      const next: Record<string, string> = { ...(prev[cid] ?? readChoices(cid)), ...shown };
      if (id !== null) next[fork] = id;
      else if (fork in chosen) next[fork] = NEWEST;
      else delete next[fork];
      saveChoices(cid, next);
      return { ...prev, [cid]: next };
    });
  }

  /** "Continue with this answer": shown here, and recorded as the comparison's choice. */
  function chooseAnswer(comparison: Comparison, messageId: string) {
    const cid = routeId;
    if (cid === null) return;
    choose(cid, comparison.questionId, messageId);
    void chats.chooseAnswer(cid, comparison.id, messageId);
  }

  /** A new version of a question: its sibling (same parent), then its answer. */
  async function editMessage(original: ViewMessage, content: string) {
    const cid = routeId;
    if (cid === null || sending || isRunning(cid)) return;
    choose(cid, original.parentId ?? ROOT_FORK, null);
    setSending(true);
    await chats.send({
      conversationId: cid,
      content,
      model: currentModel,
      parentId: original.parentId,
      // The question keeps its files: the backend copies them onto the edited one.
      attachments: original.attachments,
      onOpen: () => setSending(false),
    });
    setSending(false);
  }

  function regenerate(answer: ViewMessage, model: string | null) {
    const cid = routeId;
    if (cid === null || answer.parentId === null || isRunning(cid)) return;
    choose(cid, answer.parentId, null);
    const chosen = model ?? answer.generation?.model ?? answer.model ?? currentModel;
    void chats.answerOn(cid, answer.parentId, {
      kind: 'regenerate',
      body: chosen ? { model: chosen } : {},
    });
  }

  function continueAnswer(answer: ViewMessage) {
    if (routeId === null || isRunning(routeId)) return;
    void chats.answerOn(routeId, answer.id, { kind: 'continue' });
  }

  function removeMessage(message: ViewMessage) {
    if (routeId !== null) void chats.deleteMessage(routeId, message.id);
  }

  function openConversation(id: string) {
    setSidebarOpen(false);
    setFocus(null);
    setReveal(null);
    navigate(conversationPath(id));
  }

  function openHit(hit: SearchHit) {
    setSidebarOpen(false);
    const target = hit.messageId
      ? { conversationId: hit.conversationId, messageId: hit.messageId }
      : null;
    setFocus(target);
    setReveal(target);
    navigate(conversationPath(hit.conversationId));
  }

  async function updateConversation(id: string, changes: UpdateConversationBody) {
    onConversation(await api.updateConversation(id, changes));
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

  /** Into the temporary chat, or, from it, back to a new (saved) chat. */
  function toggleTemporary() {
    setSidebarOpen(false);
    setNewChatError(null);
    navigate(temporary ? '/' : TEMPORARY_PATH);
  }

  async function deleteConversation(id: string) {
    await api.deleteConversation(id);
    list.remove(id);
    chats.forget(id);
    if (routeId === id) navigate('/', { replace: true });
  }

  async function signOut() {
    if (temporaryHeld && !window.confirm(DISCARD_TEMPORARY)) return;
    try {
      await api.logout();
    } catch {
      // Signed out locally either way; the cookie expires on its own.
    }
    onSignedOut();
  }

  const sendError = temporary
    ? (thread?.sendError ?? newChatError)
    : routeId
      ? (thread?.sendError ?? null)
      : newChatError;
  const routingValue = useMemo<RoutingSettings>(
    () =>
      conversation
        ? {
            fallbackModels: conversation.fallbackModels,
            providerRouting: conversation.providerRouting,
          }
        : newChatRouting,
    [conversation, newChatRouting],
  );
  const promptValue = useMemo<PromptValue>(
    () =>
      conversation
        ? { systemPrompt: conversation.systemPrompt, params: conversation.params }
        : newChatPrompt,
    [conversation, newChatPrompt],
  );
  const currentSettings = useMemo<CurrentSettings>(
    () => ({ ...promptValue, model: currentModel }),
    [promptValue, currentModel],
  );
  const currentModelInfo = useMemo(
    () => models.find((m) => m.id === currentModel),
    [models, currentModel],
  );

  // Stable handlers: the sidebar, model picker and composer are not rendered again while an
  // answer streams into the conversation (that renders the workspace once per frame).
  const onSelect = useStableCallback(openConversation);
  const onNew = useStableCallback(newChat);
  const onTemporary = useStableCallback(toggleTemporary);
  const onDelete = useStableCallback(deleteConversation);
  const onUpdate = useStableCallback(updateConversation);
  const onOpenHit = useStableCallback(openHit);
  const onSignOut = useStableCallback(() => void signOut());
  const onOpenPage = useStableCallback(openPage);
  const onModelChange = useStableCallback(changeModel);
  const onSubmit = useStableCallback(submit);
  const onEditQueued = useStableCallback(editQueued);
  const onAttach = useStableCallback((chosen: File[]) => files.add(key, chosen, attached));
  const onRemoveAttachment = useStableCallback((a: DraftAttachment) => files.remove(key, a));

  /**
   * Files dragged from the desktop onto the chat are attached (text or links are not); not in
   * a temporary chat, which sends no files.
   */
  const dropHandlers =
    page === 'chat' && !temporary
      ? {
          onDragEnter: (event: DragEvent<HTMLElement>) => {
            if (!event.dataTransfer.types.includes('Files')) return;
            event.preventDefault();
            setDragDepth((depth) => depth + 1);
          },
          onDragOver: (event: DragEvent<HTMLElement>) => {
            if (!event.dataTransfer.types.includes('Files')) return;
            event.preventDefault();
            event.dataTransfer.dropEffect = 'copy';
          },
          onDragLeave: (event: DragEvent<HTMLElement>) => {
            if (!event.dataTransfer.types.includes('Files')) return;
            setDragDepth((depth) => Math.max(0, depth - 1));
          },
          onDrop: (event: DragEvent<HTMLElement>) => {
            setDragDepth(0);
            const dropped = Array.from(event.dataTransfer.files);
            if (dropped.length === 0) return;
            event.preventDefault();
            onAttach(dropped);
            composerRef.current?.focus();
          },
        }
      : {};
  const onCancelQueued = useStableCallback(cancelQueued);
  const closeHelp = useCallback(() => setHelpOpen(false), []);
  const onToggleFavorite = useStableCallback(toggleFavorite);
  const onSetDefault = useStableCallback(setDefault);
  const onSaveRouting = useStableCallback(saveRouting);
  const onEdit = useStableCallback(
    (m: ViewMessage, content: string) => void editMessage(m, content),
  );
  const onRegenerate = useStableCallback(regenerate);
  const onContinue = useStableCallback(continueAnswer);
  const onRemove = useStableCallback(removeMessage);
  const onChoose = useStableCallback((fork: string, id: string) => {
    if (routeId !== null) choose(routeId, fork, id);
  });
  const actions = useMemo<MessageActions>(
    () => ({
      edit: onEdit,
      regenerate: onRegenerate,
      continueAnswer: onContinue,
      remove: onRemove,
      choose: onChoose,
    }),
    [onEdit, onRegenerate, onContinue, onRemove, onChoose],
  );
  const onSavePrompt = useStableCallback(savePrompt);
  const onApplyPreset = useStableCallback(applyPreset);
  const onStop = useStableCallback(() => {
    if (runKey !== null) void chats.stop(runKey);
  });
  const onChooseAnswer = useStableCallback(chooseAnswer);
  const onStopAnswer = useStableCallback((messageId: string) => {
    if (routeId) void chats.stopAnswer(routeId, messageId);
  });
  const compareActions = useMemo<CompareActions>(
    () => ({ choose: onChooseAnswer, stopAnswer: onStopAnswer, stopAll: onStop }),
    [onChooseAnswer, onStopAnswer, onStop],
  );
  const onToggleCompare = useStableCallback(toggleCompare);
  const onCloseCompare = useCallback(() => setCompareSlots(null), []);

  // Keyboard shortcuts (lib/shortcuts.ts; listed in the dialog that Mod+/ opens).
  const onShortcut = useStableCallback((event: KeyboardEvent) => {
    if (event.defaultPrevented || event.isComposing) return;
    const action = shortcutOf({
      key: event.key,
      ctrlKey: event.ctrlKey,
      metaKey: event.metaKey,
      shiftKey: event.shiftKey,
      altKey: event.altKey,
      typing: isTyping(event.target),
    });
    if (action === null) return;
    switch (action) {
      case 'newChat':
        event.preventDefault();
        newChat();
        requestAnimationFrame(() => composerRef.current?.focus());
        break;
      case 'temporaryChat':
        event.preventDefault();
        toggleTemporary();
        requestAnimationFrame(() => composerRef.current?.focus());
        break;
      case 'search':
        event.preventDefault();
        if (page !== 'chat') navigate('/');
        if (window.matchMedia?.('(max-width: 768px)').matches) setSidebarOpen(true);
        requestAnimationFrame(() => focusSearch());
        break;
      case 'help':
        event.preventDefault();
        setHelpOpen((open) => !open);
        break;
      case 'stop':
        if (sidebarOpen) {
          setSidebarOpen(false);
          event.preventDefault();
        } else if (runKey !== null && run && !run.stopping) {
          event.preventDefault();
          void chats.stop(runKey);
        }
        break;
      case 'focusComposer':
        if (page !== 'chat' || !composerRef.current) return;
        event.preventDefault();
        composerRef.current.focus();
        break;
    }
  });
  useEffect(() => {
    const listener = (event: KeyboardEvent) => onShortcut(event);
    window.addEventListener('keydown', listener);
    return () => window.removeEventListener('keydown', listener);
  }, [onShortcut]);

  const topbarActions = (
    <div className="topbar-actions">
      <button
        type="button"
        className="icon-button"
        data-testid="theme-toggle"
        data-theme-choice={theme}
        aria-label={`${THEME_LABEL[theme]} (change)`}
        title={THEME_LABEL[theme]}
        onClick={() => setTheme(nextThemeChoice(theme))}
      >
        <ThemeIcon choice={theme} />
      </button>
      <button
        type="button"
        className="icon-button shortcuts-button"
        data-testid="shortcuts-button"
        aria-label="Keyboard shortcuts"
        title="Keyboard shortcuts"
        onClick={() => setHelpOpen(true)}
      >
        <KeyboardIcon />
      </button>
    </div>
  );
  const busy = (thread?.loading ?? false) || sending || (modelsLoading && page === 'chat');

  return (
    <div className="workspace">
      <Sidebar
        list={list}
        folders={folders}
        currentId={routeId}
        user={user}
        open={sidebarOpen}
        onSelect={onSelect}
        onNew={onNew}
        onTemporary={onTemporary}
        temporary={temporary}
        onDelete={onDelete}
        onUpdate={onUpdate}
        onOpenHit={onOpenHit}
        onSignOut={onSignOut}
        onOpenPage={onOpenPage}
        page={page}
      />
      {sidebarOpen && (
        <div className="scrim" aria-hidden="true" onClick={() => setSidebarOpen(false)} />
      )}
      <main className="main" {...dropHandlers}>
        {page === 'chat' && dragDepth > 0 && (
          <div className="drop-overlay" data-testid="drop-overlay" aria-hidden="true">
            Drop files to attach them: images, PDFs, text files
          </div>
        )}
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
                {page === 'admin' ? 'Administration' : page === 'usage' ? 'Usage' : 'Account'}
              </span>
              {topbarActions}
            </header>
            {page === 'account' && (
              <AccountPage user={user} onSignedOut={onSignedOut} onImported={list.reload} />
            )}
            {page === 'usage' && (
              <Suspense
                fallback={
                  <div className="page">
                    <p className="muted">Loading…</p>
                  </div>
                }
              >
                <UsagePage user={user} />
              </Suspense>
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
                favorites={preferences.favorites}
                defaultModel={preferences.defaultModel}
                onToggleFavorite={onToggleFavorite}
                onSetDefault={onSetDefault}
              />
              <span className="topbar-title">
                {temporary ? 'Temporary chat' : (conversation?.title ?? '')}
              </span>
              {routeId === null && (
                <button
                  type="button"
                  className={`icon-button temporary-toggle${temporary ? ' on' : ''}`}
                  data-testid="temporary-toggle"
                  aria-pressed={temporary}
                  aria-label="Temporary chat"
                  title={
                    temporary
                      ? 'Temporary chat: on (not saved). Click for a saved chat'
                      : 'Temporary chat: not saved anywhere'
                  }
                  onClick={onTemporary}
                >
                  <GhostIcon />
                </button>
              )}
              {(routeId === null || conversation) && (
                <PresetMenu
                  presets={presets}
                  models={models}
                  current={currentSettings}
                  newChat={routeId === null}
                  applied={routeId === null ? newChatPreset : null}
                  onApply={onApplyPreset}
                />
              )}
              {(routeId === null || conversation) && (
                <PromptSettings
                  key={`prompt-${routeId ?? NEW_CHAT}`}
                  model={currentModelInfo}
                  value={promptValue}
                  onSave={onSavePrompt}
                />
              )}
              {(routeId === null || conversation) && (
                <ConversationSettings
                  key={key}
                  models={models}
                  value={routingValue}
                  onSave={onSaveRouting}
                />
              )}
              {routeId && <ConversationExport conversationId={routeId} />}
              {topbarActions}
            </header>
            <div
              className={busy ? 'progress' : 'progress idle'}
              data-testid="progress"
              role="progressbar"
              aria-label={busy ? 'Working' : undefined}
              aria-hidden={!busy}
            />
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
            {temporary && (
              <div className="notice temporary-notice" data-testid="temporary-banner" role="status">
                <strong>Temporary chat: not saved.</strong> Its messages stay in this tab only: not
                in your conversations, search or exports, and gone when you leave or reload (an
                answer cannot be resumed after a reload). What its answers cost still counts towards
                your usage.
              </div>
            )}
            <ChatView
              conversationKey={key}
              messages={messages}
              siblings={branch.siblings}
              actions={temporary ? null : actions}
              busy={run !== undefined || sending}
              models={models}
              loading={thread?.loading ?? false}
              loadError={thread?.loadError ?? null}
              sendError={sendError}
              focusId={focus?.conversationId === routeId ? focus.messageId : null}
              groups={groups}
              compareActions={compareActions}
              choices={choices}
            />
            <div className="composer-wrap">
              {comparing && (
                <CompareBar
                  slots={compareSlots}
                  onChange={setCompareSlots}
                  onClose={onCloseCompare}
                  models={models}
                  loading={modelsLoading}
                  error={modelsError}
                  favorites={preferences.favorites}
                  defaultModel={preferences.defaultModel}
                  onToggleFavorite={onToggleFavorite}
                  onSetDefault={onSetDefault}
                />
              )}
              <Composer
                value={draft}
                onChange={setDraft}
                onSubmit={onSubmit}
                onStop={onStop}
                streaming={run !== undefined}
                stopping={run?.stopping ?? false}
                sending={sending}
                queued={runKey === null ? null : (queued[runKey] ?? null)}
                onEditQueued={onEditQueued}
                onCancelQueued={onCancelQueued}
                inputRef={composerRef}
                attachments={attached}
                // A temporary chat sends no files: nothing could hold them.
                onAttach={temporary ? undefined : onAttach}
                onRemoveAttachment={onRemoveAttachment}
                attachmentWarning={attachmentWarning}
                comparing={comparing}
                // A temporary chat has no conversation to keep a comparison in.
                onToggleCompare={temporary ? undefined : onToggleCompare}
                blocked={
                  !comparing
                    ? null
                    : run !== undefined
                      ? 'The answers are being written'
                      : compareProblem(compareSlots)
                }
              />
              <p className="composer-hint">
                {run
                  ? comparing
                    ? 'Esc to stop every answer'
                    : 'Enter to queue the next message · Esc to stop'
                  : comparing
                    ? 'Enter to send to every model · Shift+Enter for a new line'
                    : 'Enter to send · Shift+Enter for a new line'}{' '}
                ·{' '}
                <button type="button" className="link-button" onClick={() => setHelpOpen(true)}>
                  Shortcuts
                </button>
              </p>
            </div>
          </>
        )}
      </main>
      {helpOpen && <ShortcutsDialog onClose={closeHelp} />}
    </div>
  );
}
