/**
 * The API's data types, taken from ./schema.d.ts, which `npm run gen:api` generates from the
 * backend's OpenAPI document (../backend/openapi.json). This is the only module that reads
 * schema.d.ts; every other module imports its types from here.
 *
 * The backend's document has no named component schemas (every body is inline), so the
 * shapes are picked out of `paths` by route, method and status. When the backend adds named
 * schemas, these become `components['schemas']['…']` one by one, here and nowhere else.
 *
 * The events inside the text/event-stream answer are not described by OpenAPI; their shapes
 * (at the end of this file) follow docs/api-contract.md.
 */
import type { paths } from './schema';

type Method = 'get' | 'post' | 'put' | 'patch' | 'delete';

/** The JSON body of a response: `JsonResponse<'/api/auth/me', 'get', 200>`. */
type JsonResponse<P extends keyof paths, M extends Method, S extends number> = paths[P][M] extends {
  responses: { [K in S]: { content: { 'application/json': infer Body } } };
}
  ? Body
  : never;

/** The JSON body of a request. */
type JsonRequest<P extends keyof paths, M extends Method> = paths[P][M] extends {
  requestBody?: { content: { 'application/json': infer Body } };
}
  ? Body
  : never;

export type AuthState = JsonResponse<'/api/auth/state', 'get', 200>;
export type UserResponse = JsonResponse<'/api/auth/me', 'get', 200>;
export type User = UserResponse['user'];
export type Credentials = JsonRequest<'/api/auth/login', 'post'>;
export type ChangePasswordBody = JsonRequest<'/api/auth/password', 'post'>;
export type SessionsRevoked = JsonResponse<'/api/auth/password', 'post', 200>;
export type SessionList = JsonResponse<'/api/auth/sessions', 'get', 200>;
export type Session = SessionList['sessions'][number];

export type AdminUserList = JsonResponse<'/api/admin/users', 'get', 200>;
export type AdminUser = AdminUserList['users'][number];
export type CreateUserBody = JsonRequest<'/api/admin/users', 'post'>;
export type UpdateUserBody = JsonRequest<'/api/admin/users/{id}', 'patch'>;
export type WorkspaceSettings = JsonResponse<'/api/admin/settings', 'get', 200>;
export type UpdateSettingsBody = JsonRequest<'/api/admin/settings', 'patch'>;
export type AuditPage = JsonResponse<'/api/admin/audit', 'get', 200>;
export type AuditEntry = AuditPage['entries'][number];

export type KeyState = JsonResponse<'/api/keys/openrouter', 'get', 200>;
export type KeyView = NonNullable<KeyState['key']>;
export type KeyCheck = NonNullable<KeyView['lastCheck']>;
export type MyBudget = JsonResponse<'/api/budgets/me', 'get', 200>;
export type AdminBudgets = JsonResponse<'/api/admin/budgets', 'get', 200>;
export type AdminBudgetUser = AdminBudgets['users'][number];

export type UsageSummary = JsonResponse<'/api/usage/summary', 'get', 200>;
export type DailyUsage = JsonResponse<'/api/usage/daily', 'get', 200>;
export type LatencyUsage = JsonResponse<'/api/usage/latency', 'get', 200>;
export type ConversationsUsage = JsonResponse<'/api/usage/conversations', 'get', 200>;
export type ErrorsUsage = JsonResponse<'/api/usage/errors', 'get', 200>;
export type PricesUsage = JsonResponse<'/api/usage/prices', 'get', 200>;
export type UsersUsage = JsonResponse<'/api/admin/usage/users', 'get', 200>;
/** Which rows a usage download holds (GET /api/usage/export?report=…). */
export type UsageReport = NonNullable<
  paths['/api/usage/export']['get']['parameters']['query']
>['report'];

/** GET /api/health answers 200 when healthy and 503 (same body) when degraded. */
export type Health =
  JsonResponse<'/api/health', 'get', 200> | JsonResponse<'/api/health', 'get', 503>;

export type ModelsResponse = JsonResponse<'/api/models', 'get', 200>;
export type Model = ModelsResponse['models'][number];
export type ModelPreferences = JsonResponse<'/api/models/preferences', 'get', 200>;

export type ConversationPage = JsonResponse<'/api/conversations', 'get', 200>;
export type Conversation = JsonResponse<'/api/conversations', 'post', 201>;
export type ConversationDetail = JsonResponse<'/api/conversations/{id}', 'get', 200>;
export type CreateConversationBody = JsonRequest<'/api/conversations', 'post'>;
export type UpdateConversationBody = JsonRequest<'/api/conversations/{id}', 'patch'>;
export type ProviderRouting = NonNullable<Conversation['providerRouting']>;
export type GenerationParams = Conversation['params'];
export type ReasoningEffort = NonNullable<GenerationParams['reasoningEffort']>;

export type PresetList = JsonResponse<'/api/presets', 'get', 200>;
export type Preset = PresetList['presets'][number];
export type CreatePresetBody = JsonRequest<'/api/presets', 'post'>;
export type UpdatePresetBody = JsonRequest<'/api/presets/{id}', 'patch'>;

export type FolderList = JsonResponse<'/api/folders', 'get', 200>;
export type Folder = FolderList['folders'][number];

export type SearchResults = JsonResponse<'/api/search', 'get', 200>;
export type SearchHit = SearchResults['results'][number];
export type SnippetSegment = SearchHit['snippet'][number];

export type Message = ConversationDetail['messages'][number];
export type MessageStatus = Message['status'];
export type Generation = NonNullable<Message['generation']>;
/** A web page an answer cites (web search); `url` is absolute http(s), checked by the backend. */
export type Source = NonNullable<Message['sources']>[number];
/** A file a message carries (metadata; GET /api/attachments/{id} serves its bytes). */
export type Attachment = JsonResponse<'/api/attachments', 'post', 201>;
export type AttachmentLimits = JsonResponse<'/api/attachment-limits', 'get', 200>;

export type ImportResult = JsonResponse<'/api/import', 'post', 201>;

export type SendMessageBody = JsonRequest<'/api/conversations/{id}/messages', 'post'>;
export type RegenerateBody = JsonRequest<
  '/api/conversations/{id}/messages/{messageId}/regenerate',
  'post'
>;
export type DeletedMessages = JsonResponse<
  '/api/conversations/{id}/messages/{messageId}',
  'delete',
  200
>;
export type TemporaryChatBody = JsonRequest<'/api/chat/temporary', 'post'>;
export type TemporaryChatMessage = TemporaryChatBody['messages'][number];
export type StopResponse = JsonResponse<'/api/generations/{id}/stop', 'post', 200>;
export type CompareBody = JsonRequest<'/api/conversations/{id}/compare', 'post'>;
export type Comparison = ConversationDetail['comparisons'][number];
export type ChooseAnswerResponse = JsonResponse<
  '/api/conversations/{id}/comparisons/{comparisonId}/choose',
  'post',
  200
>;
export type StopComparisonResponse = JsonResponse<
  '/api/conversations/{id}/comparisons/{comparisonId}/stop',
  'post',
  200
>;
export type ErrorBody = JsonResponse<'/api/conversations/{id}', 'get', 404>;

// ---- Events of the text/event-stream answers to POST /api/conversations/:id/messages,
// ---- GET /api/generations/:id/stream (the reattach: same events, without user_message) and
// ---- POST /api/chat/temporary (a temporary chat: the same, without user_message) ----
// ---- A comparison's stream (POST /api/conversations/:id/compare) has them all, each with the
// ---- `messageId` of the answer it belongs to, after a `comparison` event.

export interface AssistantMessageEvent {
  messageId: string;
  generationId: string;
  model: string;
}

/** A comparison's stream names the answer each event belongs to. */
interface Tagged {
  messageId?: string;
}

export interface ContentEvent extends Tagged {
  content: string;
}

export interface Usage {
  promptTokens: number | null;
  completionTokens: number | null;
  reasoningTokens: number | null;
  cost: number | null;
}

export interface ComparisonEvent {
  id: string;
  questionId: string;
  /** In the order of the request's models. */
  answers: AssistantMessageEvent[];
}

export interface DoneEvent {
  messageId: string;
  finishReason: string | null;
  status: 'complete' | 'stopped';
  /** The model that answered (a fallback when the first failed). */
  model: string;
  /** The provider that served the answer; null when upstream named none. */
  provider: string | null;
  /** As saved with the generation (whole ms); null when no token came. */
  timeToFirstTokenMs: number | null;
  durationMs: number;
}

export interface StreamErrorEvent extends Tagged {
  code: string;
  message: string;
}

export type StreamEvent =
  | { type: 'user_message'; data: Message }
  | { type: 'comparison'; data: ComparisonEvent }
  | { type: 'assistant_message'; data: AssistantMessageEvent }
  | { type: 'delta'; data: ContentEvent }
  | { type: 'reasoning'; data: ContentEvent }
  | { type: 'usage'; data: Usage & Tagged }
  | { type: 'sources'; data: { sources: Source[] } & Tagged }
  | { type: 'done'; data: DoneEvent }
  | { type: 'error'; data: StreamErrorEvent };
