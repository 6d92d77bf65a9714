/**
 * A small typed wrapper over fetch for the backend's JSON API (same origin, cookie session).
 * Types come from ./types (generated from the OpenAPI document once available).
 */
import { readSse } from './sse';
import type {
  AdminBudgets,
  AdminUser,
  Attachment,
  AttachmentLimits,
  AdminUserList,
  AuditPage,
  AuthState,
  ChooseAnswerResponse,
  CompareBody,
  ChangePasswordBody,
  CreateUserBody,
  SessionList,
  SessionsRevoked,
  UpdateSettingsBody,
  UpdateUserBody,
  WorkspaceSettings,
  Conversation,
  ConversationDetail,
  ConversationPage,
  CreateConversationBody,
  Folder,
  FolderList,
  CreatePresetBody,
  Preset,
  PresetList,
  UpdatePresetBody,
  SearchResults,
  Credentials,
  DeletedMessages,
  ErrorBody,
  Health,
  KeyState,
  ModelPreferences,
  ModelsResponse,
  MyBudget,
  RegenerateBody,
  ConversationsUsage,
  DailyUsage,
  ErrorsUsage,
  LatencyUsage,
  PricesUsage,
  UsageSummary,
  UsersUsage,
  SendMessageBody,
  StopComparisonResponse,
  StopResponse,
  StreamEvent,
  TemporaryChatBody,
  UpdateConversationBody,
  UserResponse,
} from './types';

/** Fired on window when any API call (other than auth ones) answers 401. */
export const UNAUTHORIZED_EVENT = 'api:unauthorized';

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
    this.name = 'ApiError';
  }
}

function isErrorBody(value: unknown): value is ErrorBody {
  if (typeof value !== 'object' || value === null || !('error' in value)) return false;
  const error = value.error;
  return (
    typeof error === 'object' &&
    error !== null &&
    'code' in error &&
    typeof error.code === 'string' &&
    'message' in error &&
    typeof error.message === 'string'
  );
}

/** Turns a non-2xx response into an ApiError carrying the backend's own message. */
export async function errorFromResponse(res: Response): Promise<ApiError> {
  let body: unknown = null;
  try {
    body = await res.json();
  } catch {
    body = null;
  }
  if (isErrorBody(body)) {
    // A 429 says when to try again (Retry-After, in seconds): the message says it too.
    const retryAfter = Number(res.headers.get('retry-after'));
    const message =
      res.status === 429 && Number.isFinite(retryAfter) && retryAfter > 0
        ? `${body.error.message} Try again in ${retryAfter} s.`
        : body.error.message;
    return new ApiError(res.status, body.error.code, message);
  }
  return new ApiError(
    res.status,
    'http.error',
    `The server answered ${res.status}${res.statusText ? ` ${res.statusText}` : ''}.`,
  );
}

function networkError(err: unknown): ApiError {
  if (err instanceof DOMException && err.name === 'AbortError') throw err;
  return new ApiError(0, 'network', 'Cannot reach the server. Check your connection.');
}

interface RequestOptions {
  method?: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
  body?: unknown;
  signal?: AbortSignal;
  /** Do not broadcast a 401 (auth endpoints answer 401 as a normal outcome). */
  quiet401?: boolean;
  /** Non-2xx statuses whose body is still the answer (e.g. 503 from a degraded health check). */
  alsoOk?: number[];
}

async function request<T>(path: string, options: RequestOptions = {}): Promise<T> {
  const init: RequestInit = {
    method: options.method ?? 'GET',
    credentials: 'same-origin',
    headers: { accept: 'application/json' },
  };
  if (options.signal) init.signal = options.signal;
  if (options.body !== undefined) {
    init.headers = { accept: 'application/json', 'content-type': 'application/json' };
    init.body = JSON.stringify(options.body);
  }
  let res: Response;
  try {
    res = await fetch(path, init);
  } catch (err) {
    throw networkError(err);
  }
  if (!res.ok && !options.alsoOk?.includes(res.status)) {
    const error = await errorFromResponse(res);
    if (res.status === 401 && !options.quiet401) {
      window.dispatchEvent(new CustomEvent(UNAUTHORIZED_EVENT));
    }
    throw error;
  }
  if (res.status === 204) return undefined as T;
  return (await res.json()) as T;
}

const enc = encodeURIComponent;

export const api = {
  authState: () => request<AuthState>('/api/auth/state'),
  setup: (body: Credentials) =>
    request<UserResponse>('/api/auth/setup', { method: 'POST', body, quiet401: true }),
  login: (body: Credentials) =>
    request<UserResponse>('/api/auth/login', { method: 'POST', body, quiet401: true }),
  logout: () => request<undefined>('/api/auth/logout', { method: 'POST', quiet401: true }),
  register: (body: Credentials) =>
    request<UserResponse>('/api/auth/register', { method: 'POST', body, quiet401: true }),
  me: () => request<UserResponse>('/api/auth/me', { quiet401: true }),
  changePassword: (body: ChangePasswordBody) =>
    request<SessionsRevoked>('/api/auth/password', { method: 'POST', body }),
  sessions: () => request<SessionList>('/api/auth/sessions'),
  revokeSession: (id: string) =>
    request<undefined>(`/api/auth/sessions/${enc(id)}`, { method: 'DELETE' }),
  logoutAll: () =>
    request<SessionsRevoked>('/api/auth/logout-all', { method: 'POST', quiet401: true }),
  admin: {
    users: () => request<AdminUserList>('/api/admin/users'),
    createUser: (body: CreateUserBody) =>
      request<AdminUser>('/api/admin/users', { method: 'POST', body }),
    updateUser: (id: string, body: UpdateUserBody) =>
      request<AdminUser>(`/api/admin/users/${enc(id)}`, { method: 'PATCH', body }),
    deleteUser: (id: string) =>
      request<undefined>(`/api/admin/users/${enc(id)}`, { method: 'DELETE' }),
    resetPassword: (id: string, password: string) =>
      request<AdminUser>(`/api/admin/users/${enc(id)}/password`, {
        method: 'POST',
        body: { password },
      }),
    settings: () => request<WorkspaceSettings>('/api/admin/settings'),
    updateSettings: (body: UpdateSettingsBody) =>
      request<WorkspaceSettings>('/api/admin/settings', { method: 'PATCH', body }),
    budgets: () => request<AdminBudgets>('/api/admin/budgets'),
    setDefaultBudget: (monthlyLimitUsd: number | null) =>
      request<AdminBudgets>('/api/admin/budgets/default', {
        method: 'PUT',
        body: { monthlyLimitUsd },
      }),
    setUserBudget: (id: string, monthlyLimitUsd: number | null) =>
      request<AdminBudgets>(`/api/admin/budgets/users/${enc(id)}`, {
        method: 'PUT',
        body: { monthlyLimitUsd },
      }),
    resetUserBudget: (id: string) =>
      request<AdminBudgets>(`/api/admin/budgets/users/${enc(id)}`, { method: 'DELETE' }),
    audit: (cursor: string | null, limit = 50) =>
      request<AuditPage>(
        `/api/admin/audit?limit=${limit}${cursor ? `&cursor=${enc(cursor)}` : ''}`,
      ),
  },
  /** Your own OpenRouter key: only its last four characters ever come back. */
  openRouterKey: () => request<KeyState>('/api/keys/openrouter'),
  saveOpenRouterKey: (key: string) =>
    request<KeyState>('/api/keys/openrouter', { method: 'PUT', body: { key } }),
  checkOpenRouterKey: () => request<KeyState>('/api/keys/openrouter/check', { method: 'POST' }),
  deleteOpenRouterKey: () => request<undefined>('/api/keys/openrouter', { method: 'DELETE' }),
  myBudget: () => request<MyBudget>('/api/budgets/me'),

  /** Usage reports; `query` holds from, to and (admins) user. */
  usage: {
    summary: (query: string) => request<UsageSummary>(`/api/usage/summary?${query}`),
    daily: (query: string) => request<DailyUsage>(`/api/usage/daily?${query}`),
    latency: (query: string) => request<LatencyUsage>(`/api/usage/latency?${query}`),
    conversations: (query: string) =>
      request<ConversationsUsage>(`/api/usage/conversations?${query}`),
    errors: (query: string) => request<ErrorsUsage>(`/api/usage/errors?${query}`),
    prices: (query: string) => request<PricesUsage>(`/api/usage/prices?${query}`),
    users: (query: string) => request<UsersUsage>(`/api/admin/usage/users?${query}`),
  },
  health: () => request<Health>('/api/health', { alsoOk: [503] }),
  models: () => request<ModelsResponse>('/api/models'),
  modelPreferences: () => request<ModelPreferences>('/api/models/preferences'),
  setFavoriteModel: (modelId: string, favorite: boolean) =>
    request<ModelPreferences>('/api/models/favorites', {
      method: 'PUT',
      body: { modelId, favorite },
    }),
  setDefaultModel: (modelId: string | null) =>
    request<ModelPreferences>('/api/models/default', { method: 'PUT', body: { modelId } }),
  /** The main list by default; `archived` lists the archived ones, `folderId` one folder's. */
  listConversations: (
    cursor: string | null,
    limit = 30,
    view: { archived?: boolean; folderId?: string } = {},
  ) =>
    request<ConversationPage>(
      `/api/conversations?limit=${limit}${view.archived ? '&archived=true' : ''}${
        view.folderId ? `&folderId=${enc(view.folderId)}` : ''
      }${cursor ? `&cursor=${enc(cursor)}` : ''}`,
    ),
  folders: () => request<FolderList>('/api/folders'),
  createFolder: (name: string) =>
    request<Folder>('/api/folders', { method: 'POST', body: { name } }),
  renameFolder: (id: string, name: string) =>
    request<Folder>(`/api/folders/${enc(id)}`, { method: 'PATCH', body: { name } }),
  deleteFolder: (id: string) => request<undefined>(`/api/folders/${enc(id)}`, { method: 'DELETE' }),
  presets: () => request<PresetList>('/api/presets'),
  createPreset: (body: CreatePresetBody) =>
    request<Preset>('/api/presets', { method: 'POST', body }),
  updatePreset: (id: string, body: UpdatePresetBody) =>
    request<Preset>(`/api/presets/${enc(id)}`, { method: 'PATCH', body }),
  deletePreset: (id: string) => request<undefined>(`/api/presets/${enc(id)}`, { method: 'DELETE' }),
  search: (q: string, signal?: AbortSignal) =>
    request<SearchResults>(`/api/search?q=${enc(q)}`, signal ? { signal } : {}),
  createConversation: (body: CreateConversationBody) =>
    request<Conversation>('/api/conversations', { method: 'POST', body }),
  getConversation: (id: string, signal?: AbortSignal) =>
    request<ConversationDetail>(`/api/conversations/${enc(id)}`, signal ? { signal } : {}),
  updateConversation: (id: string, body: UpdateConversationBody) =>
    request<Conversation>(`/api/conversations/${enc(id)}`, { method: 'PATCH', body }),
  attachmentLimits: () => request<AttachmentLimits>('/api/attachment-limits'),
  /** Deletes an upload not sent yet (removed from the message box). */
  deleteAttachment: (id: string) =>
    request<undefined>(`/api/attachments/${enc(id)}`, { method: 'DELETE' }),
  deleteConversation: (id: string) =>
    request<undefined>(`/api/conversations/${enc(id)}`, { method: 'DELETE' }),
  /** Deletes a message and every reply below it; answers with the ids deleted. */
  deleteMessage: (conversationId: string, messageId: string) =>
    request<DeletedMessages>(
      `/api/conversations/${enc(conversationId)}/messages/${enc(messageId)}`,
      { method: 'DELETE' },
    ),
  stopGeneration: (generationId: string) =>
    request<StopResponse>(`/api/generations/${enc(generationId)}/stop`, { method: 'POST' }),
  /** Chooses the comparison's answer the conversation continues with. */
  chooseAnswer: (conversationId: string, comparisonId: string, messageId: string) =>
    request<ChooseAnswerResponse>(
      `/api/conversations/${enc(conversationId)}/comparisons/${enc(comparisonId)}/choose`,
      { method: 'POST', body: { messageId } },
    ),
  /** Stops every answer of a comparison still being written. */
  stopComparison: (conversationId: string, comparisonId: string) =>
    request<StopComparisonResponse>(
      `/api/conversations/${enc(conversationId)}/comparisons/${enc(comparisonId)}/stop`,
      { method: 'POST' },
    ),
};

const STREAM_EVENTS = new Set<string>([
  'user_message',
  'comparison',
  'assistant_message',
  'delta',
  'reasoning',
  'usage',
  'sources',
  'done',
  'error',
]);

function isStreamEvent(event: { type: string; data: unknown }): event is StreamEvent {
  return STREAM_EVENTS.has(event.type) && typeof event.data === 'object' && event.data !== null;
}

export interface StreamHandlers {
  /** The backend accepted the message: the answer stream has started. */
  onOpen: () => void;
  onEvent: (event: StreamEvent) => void;
  signal?: AbortSignal;
}

/** Opens a text/event-stream request; rejects with an ApiError when it is answered otherwise. */
async function openStream(path: string, init: RequestInit): Promise<ReadableStream<Uint8Array>> {
  let res: Response;
  try {
    res = await fetch(path, { credentials: 'same-origin', ...init });
  } catch (err) {
    throw networkError(err);
  }
  if (!res.ok) {
    const error = await errorFromResponse(res);
    if (res.status === 401) window.dispatchEvent(new CustomEvent(UNAUTHORIZED_EVENT));
    throw error;
  }
  const type = res.headers.get('content-type') ?? '';
  if (!type.startsWith('text/event-stream') || res.body === null) {
    throw new ApiError(res.status, 'stream.unexpected', 'The server did not start a stream.');
  }
  return res.body;
}

/** Delivers the stream's events of ours, typed; resolves when the stream ends. */
async function deliver(
  body: ReadableStream<Uint8Array>,
  onEvent: (event: StreamEvent) => void,
): Promise<void> {
  for await (const sse of readSse(body)) {
    let data: unknown;
    try {
      data = JSON.parse(sse.data);
    } catch {
      continue; // not one of ours
    }
    const event = { type: sse.event, data };
    if (isStreamEvent(event)) onEvent(event);
  }
}

/**
 * POSTs `body` (JSON; none when undefined) and reads the text/event-stream answer: onOpen once
 * the stream starts, then each event. Rejects with an ApiError when refused before any stream
 * starts; resolves when the stream ends.
 */
async function postStream(path: string, body: unknown, handlers: StreamHandlers): Promise<void> {
  const init: RequestInit = {
    method: 'POST',
    headers:
      body === undefined
        ? { accept: 'text/event-stream' }
        : { accept: 'text/event-stream', 'content-type': 'application/json' },
  };
  if (body !== undefined) init.body = JSON.stringify(body);
  if (handlers.signal) init.signal = handlers.signal;
  const stream = await openStream(path, init);
  handlers.onOpen();
  await deliver(stream, handlers.onEvent);
}

/**
 * POSTs a message and reads the text/event-stream answer (its `user_message`, the saved
 * question, may follow the first tokens). Rejects with an ApiError (with the backend's own
 * message) when the request is refused before any stream starts; resolves when the stream ends.
 */
export async function streamMessage(
  conversationId: string,
  body: SendMessageBody,
  handlers: StreamHandlers,
): Promise<void> {
  await postStream(`/api/conversations/${enc(conversationId)}/messages`, body, handlers);
}

/**
 * POSTs a question to 2 to 4 models at once and reads the stream of all their answers:
 * `user_message`, `comparison`, one `assistant_message` per answer, then every answer's events,
 * each naming its answer (`messageId`). Rejects with an ApiError when refused before any stream
 * starts; resolves when the stream ends (once every answer has).
 */
export async function streamCompare(
  conversationId: string,
  body: CompareBody,
  handlers: StreamHandlers,
): Promise<void> {
  await postStream(`/api/conversations/${enc(conversationId)}/compare`, body, handlers);
}

/**
 * Starts an answer on an existing message and reads its stream: `regenerate` answers a
 * question again (a new sibling answer), `continue` writes on an answer that ended early (its
 * `delta`s append to the saved text). Rejects with an ApiError when refused before the stream.
 */
export async function streamAnswer(
  conversationId: string,
  messageId: string,
  action: { kind: 'regenerate'; body: RegenerateBody } | { kind: 'continue' },
  handlers: StreamHandlers,
): Promise<void> {
  await postStream(
    `/api/conversations/${enc(conversationId)}/messages/${enc(messageId)}/${action.kind}`,
    action.kind === 'regenerate' ? action.body : undefined,
    handlers,
  );
}

/**
 * A temporary chat's answer (POST /api/chat/temporary): the whole history goes with each
 * question, and nothing of it is stored. The same events as a conversation's answer, without
 * `user_message`. Rejects with an ApiError when refused before any stream starts; resolves
 * when the stream ends. Closing it (aborting `signal`) stops the answer: nothing can reattach.
 */
export async function streamTemporary(
  body: TemporaryChatBody,
  handlers: StreamHandlers,
): Promise<void> {
  await postStream('/api/chat/temporary', body, handlers);
}

/**
 * Reattaches to a running answer (GET /api/generations/:id/stream): `assistant_message`, then
 * the whole text so far in one `delta` (and one `reasoning`), then live events up to `done` or
 * `error`. Rejects with an ApiError 404 `generation.not_found` when the answer no longer runs:
 * its saved message is then in the conversation. Resolves when the stream ends.
 */
export async function streamGeneration(
  generationId: string,
  handlers: { onEvent: (event: StreamEvent) => void; signal?: AbortSignal },
): Promise<void> {
  const init: RequestInit = { method: 'GET', headers: { accept: 'text/event-stream' } };
  if (handlers.signal) init.signal = handlers.signal;
  const stream = await openStream(`/api/generations/${enc(generationId)}/stream`, init);
  await deliver(stream, handlers.onEvent);
}

/** Where an attachment's bytes are served (the owner's session only). */
export function attachmentUrl(id: string): string {
  return `/api/attachments/${enc(id)}`;
}

/**
 * Uploads a file (POST /api/attachments, its bytes as the body) with progress (a fraction,
 * 0 to 1): XMLHttpRequest, since fetch reports no upload progress. Rejects with an ApiError
 * carrying the backend's message (too large, not a type that can be attached…), or an
 * AbortError DOMException when `signal` aborts.
 */
export function uploadAttachment(
  file: Blob,
  name: string,
  onProgress: (fraction: number) => void,
  signal?: AbortSignal,
): Promise<Attachment> {
  return new Promise((resolve, reject) => {
    const xhr = new XMLHttpRequest();
    xhr.open('POST', `/api/attachments?name=${encodeURIComponent(name)}`);
    xhr.setRequestHeader('content-type', 'application/octet-stream');
    xhr.setRequestHeader('accept', 'application/json');
    xhr.responseType = 'text';
    xhr.upload.onprogress = (event) => {
      if (event.lengthComputable && event.total > 0) onProgress(event.loaded / event.total);
    };
    xhr.onload = () => {
      const response = new Response(xhr.responseText, {
        status: xhr.status,
        headers: { 'content-type': xhr.getResponseHeader('content-type') ?? '' },
      });
      if (xhr.status === 201) {
        response.json().then((body) => resolve(body as Attachment), reject);
        return;
      }
      if (xhr.status === 401) window.dispatchEvent(new Event(UNAUTHORIZED_EVENT));
      errorFromResponse(response).then(reject, reject);
    };
    xhr.onerror = () =>
      reject(new ApiError(0, 'network', 'Cannot reach the server. Check your connection.'));
    xhr.onabort = () => reject(new DOMException('The upload was cancelled.', 'AbortError'));
    if (signal) {
      if (signal.aborted) {
        reject(new DOMException('The upload was cancelled.', 'AbortError'));
        return;
      }
      signal.addEventListener('abort', () => xhr.abort(), { once: true });
    }
    xhr.send(file);
  });
}
