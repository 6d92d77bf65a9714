import type { ExportGeneration } from './schemas.js';
import {
  createPlan,
  instant,
  invalid,
  isObject,
  keptTree,
  modelOf,
  titleOf,
  type ImportPlan,
  type PlannedMessage,
  type TreeNode,
} from './plan.js';

/**
 * An Open WebUI chat: as its "Export chats" writes it, `{ id, user_id, title, chat: { history,
 * messages, models, … }, created_at, updated_at, … }` (the file is an array of them); also a
 * bare `chat` object, which Open WebUI's own import accepts too.
 */
export function looksLikeOpenWebUi(item: unknown): boolean {
  if (!isObject(item)) return false;
  const chat = isObject(item['chat']) ? item['chat'] : item;
  return isObject(chat['history']) || Array.isArray(chat['messages']);
}

type Draft = Omit<PlannedMessage, 'key' | 'parentKey'>;

/**
 * Open WebUI keeps a chat's tree in `chat.history.messages` (id → { id, parentId, childrenIds,
 * role, content, model, timestamp, … }): a regenerated answer is another child of the same
 * question. `chat.messages` holds the shown branch only, read when there is no history.
 * Times are Unix seconds. An answer's `usage`, when present, becomes its generation figures.
 */
export function planOpenWebUi(items: readonly unknown[]): ImportPlan {
  const plan = createPlan('open-webui');
  items.forEach((item, index) => {
    const where = `chat ${index + 1}`;
    if (!isObject(item)) throw invalid(`${where} is not an object.`);
    const chat = isObject(item['chat']) ? item['chat'] : item;
    const nodes = new Map<string, TreeNode<Draft>>();
    const history = chat['history'];
    if (isObject(history) && isObject(history['messages'])) {
      for (const [key, message] of Object.entries(history['messages'])) {
        if (!isObject(message)) throw invalid(`${where}: message "${key}" is not an object.`);
        const parent = message['parentId'];
        if (parent !== null && parent !== undefined && typeof parent !== 'string') {
          throw invalid(`${where}: message "${key}" has a "parentId" that is not a string.`);
        }
        nodes.set(key, { parentKey: parent ?? null, value: draftOf(message, plan.skip) });
      }
    } else if (Array.isArray(chat['messages'])) {
      // One branch, in order: each message follows the one before unless it names its parent.
      let previous: string | null = null;
      chat['messages'].forEach((message: unknown, i) => {
        if (!isObject(message)) throw invalid(`${where}: message ${i + 1} is not an object.`);
        const key = typeof message['id'] === 'string' ? message['id'] : `#${i}`;
        const parent = typeof message['parentId'] === 'string' ? message['parentId'] : previous;
        nodes.set(key, { parentKey: parent, value: draftOf(message, plan.skip) });
        previous = key;
      });
    } else {
      throw invalid(`${where} has neither "chat.history.messages" nor "chat.messages".`);
    }
    const { kept, unreachable } = keptTree(nodes);
    plan.skip('message outside the tree (a parent loop)', unreachable);
    const times = kept.map((k) => k.value.createdAt).filter((t) => t !== '');
    const createdAt =
      instant(item['created_at']) ??
      instant(chat['timestamp']) ??
      times.reduce((min, t) => (t < min ? t : min), times[0] ?? new Date().toISOString());
    const messages: PlannedMessage[] = [];
    const timeOf = new Map<string, string>();
    for (const { key, parentKey, value } of kept) {
      const at =
        value.createdAt !== ''
          ? value.createdAt
          : ((parentKey && timeOf.get(parentKey)) ?? createdAt);
      timeOf.set(key, at);
      const generation = value.generation && { ...value.generation, createdAt: at };
      messages.push({ ...value, key, parentKey, createdAt: at, updatedAt: at, generation });
    }
    const latest = messages.reduce((max, m) => (m.createdAt > max ? m.createdAt : max), createdAt);
    plan.add({
      title: titleOf(item['title'], chat['title']),
      model: null,
      fallbackModels: [],
      providerRouting: null,
      createdAt,
      updatedAt: instant(item['updated_at']) ?? latest,
      messages,
    });
  });
  return plan;
}

function draftOf(message: Record<string, unknown>, skip: (what: string) => void): Draft | null {
  const role = message['role'];
  if (role === 'system') {
    skip('system message');
    return null;
  }
  if (role !== 'user' && role !== 'assistant') {
    skip('message of another kind');
    return null;
  }
  const files = Array.isArray(message['files']) ? message['files'].length : 0;
  for (let i = 0; i < files; i += 1) skip('image or file');
  const content = contentOf(message['content'], skip);
  const failed =
    message['error'] !== undefined && message['error'] !== null && message['error'] !== false;
  if (content.trim() === '' && !(role === 'assistant' && failed)) {
    if (files === 0) skip('empty message');
    return null;
  }
  const model = role === 'assistant' ? modelOf(message['model']) : null;
  return {
    role,
    content,
    reasoning: null,
    sources: null,
    model,
    status: failed ? 'error' : message['done'] === false ? 'interrupted' : 'complete',
    error: failed ? errorText(message['error']) : null,
    createdAt: instant(message['timestamp']) ?? '',
    updatedAt: '',
    generation: role === 'assistant' ? usageOf(message['usage'], model) : null,
  };
}

/** Text content; a list of parts (the OpenAI shape) keeps its text parts. */
function contentOf(content: unknown, skip: (what: string) => void): string {
  if (typeof content === 'string') return content;
  if (!Array.isArray(content)) return '';
  const texts: string[] = [];
  for (const part of content) {
    if (typeof part === 'string') texts.push(part);
    else if (isObject(part) && part['type'] === 'text' && typeof part['text'] === 'string') {
      texts.push(part['text']);
    } else skip('image or file');
  }
  return texts.join('\n\n');
}

function errorText(error: unknown): string {
  if (typeof error === 'string' && error.trim() !== '') return error;
  if (isObject(error) && typeof error['content'] === 'string' && error['content'].trim() !== '') {
    return error['content'];
  }
  return 'The answer failed.';
}

const tokens = (value: unknown): number | null =>
  typeof value === 'number' && Number.isInteger(value) && value >= 0 && value <= 2 ** 31 - 1
    ? value
    : null;

/** `usage` as OpenAI-compatible servers report it: prompt/completion (or input/output) tokens. */
function usageOf(usage: unknown, model: string | null): ExportGeneration | null {
  if (!isObject(usage)) return null;
  const promptTokens = tokens(usage['prompt_tokens']) ?? tokens(usage['input_tokens']);
  const completionTokens = tokens(usage['completion_tokens']) ?? tokens(usage['output_tokens']);
  if (promptTokens === null && completionTokens === null) return null;
  const details = isObject(usage['completion_tokens_details'])
    ? usage['completion_tokens_details']
    : {};
  return {
    model: model ?? 'unknown',
    provider: null,
    upstreamId: null,
    promptTokens,
    completionTokens,
    reasoningTokens: tokens(details['reasoning_tokens']),
    cachedTokens: null,
    cost: null,
    timeToFirstTokenMs: null,
    durationMs: null,
    finishReason: null,
    errorCode: null,
    // Replaced by the message's time once the tree is read.
    createdAt: '',
  };
}
