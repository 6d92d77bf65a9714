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

/** A ChatGPT conversation: an object with a `mapping` of nodes (conversations.json holds an array). */
export function looksLikeChatGpt(item: unknown): boolean {
  return isObject(item) && isObject(item['mapping']);
}

type Draft = Omit<PlannedMessage, 'key' | 'parentKey'>;

/**
 * ChatGPT's data export (conversations.json): each conversation's `mapping` is its message
 * tree, node id → { message, parent, children }. An edited question or a regenerated answer is
 * a second child of the same parent, so branches come through the parent links as they are.
 * Kept: visible user and assistant messages with text. Left out, counted: system and tool
 * messages, hidden ones, the assistant's calls to tools, content that is not text (code run,
 * browsing, reasoning summaries) and the images or files of a message. A left-out node's
 * children hang on its nearest kept ancestor; the empty root (`message: null`) is no message.
 */
export function planChatGpt(items: readonly unknown[]): ImportPlan {
  const plan = createPlan('chatgpt');
  items.forEach((item, index) => {
    const where = `conversation ${index + 1}`;
    if (!isObject(item)) throw invalid(`${where} is not an object.`);
    const mapping = item['mapping'];
    if (!isObject(mapping)) throw invalid(`${where} has no "mapping" object.`);
    const createdAt =
      instant(item['create_time']) ?? instant(item['update_time']) ?? new Date().toISOString();
    const nodes = new Map<string, TreeNode<Draft>>();
    for (const [key, node] of Object.entries(mapping)) {
      if (!isObject(node)) throw invalid(`${where}: node "${key}" of "mapping" is not an object.`);
      const parent = node['parent'];
      if (parent !== null && parent !== undefined && typeof parent !== 'string') {
        throw invalid(`${where}: node "${key}" has a "parent" that is not a string.`);
      }
      nodes.set(key, { parentKey: parent ?? null, value: draftOf(node['message'], plan.skip) });
    }
    const { kept, unreachable } = keptTree(nodes);
    plan.skip('message outside the tree (a parent loop)', unreachable);
    const messages: PlannedMessage[] = [];
    const timeOf = new Map<string, string>();
    for (const { key, parentKey, value } of kept) {
      // A message without a time takes its parent's, else the conversation's.
      const at =
        value.createdAt !== ''
          ? value.createdAt
          : ((parentKey && timeOf.get(parentKey)) ?? createdAt);
      timeOf.set(key, at);
      messages.push({ ...value, key, parentKey, createdAt: at, updatedAt: at });
    }
    const latest = messages.reduce((max, m) => (m.createdAt > max ? m.createdAt : max), createdAt);
    plan.add({
      title: titleOf(item['title']),
      model: null,
      fallbackModels: [],
      providerRouting: null,
      createdAt,
      updatedAt: instant(item['update_time']) ?? latest,
      messages,
    });
  });
  return plan;
}

/** The message of a node as it will be kept, or null (counted by `skip` when it was one). */
function draftOf(message: unknown, skip: (what: string) => void): Draft | null {
  if (message === null || message === undefined) return null;
  if (!isObject(message)) {
    skip('unreadable message');
    return null;
  }
  const author = isObject(message['author']) ? message['author'] : {};
  const role = author['role'];
  const metadata = isObject(message['metadata']) ? message['metadata'] : {};
  if (role === 'system') {
    skip('system message');
    return null;
  }
  if (role === 'tool') {
    skip('tool message');
    return null;
  }
  if (role !== 'user' && role !== 'assistant') {
    skip('message of another kind');
    return null;
  }
  if (metadata['is_visually_hidden_from_conversation'] === true) {
    skip('hidden message');
    return null;
  }
  const recipient = message['recipient'];
  if (role === 'assistant' && typeof recipient === 'string' && recipient !== 'all') {
    skip('tool call');
    return null;
  }
  const content = isObject(message['content']) ? message['content'] : {};
  const type = content['content_type'];
  if (type !== 'text' && type !== 'multimodal_text') {
    skip('content that is not text (code, browsing, reasoning)');
    return null;
  }
  const parts = Array.isArray(content['parts']) ? content['parts'] : [];
  const texts = parts.filter((part): part is string => typeof part === 'string');
  const attachments = parts.length - texts.length;
  if (attachments > 0) for (let i = 0; i < attachments; i += 1) skip('image or file');
  const body = texts.join('\n\n');
  if (body.trim() === '') {
    if (attachments === 0) skip('empty message');
    return null;
  }
  return {
    role,
    content: body,
    reasoning: null,
    sources: null,
    model: role === 'assistant' ? modelOf(metadata['model_slug']) : null,
    status: 'complete',
    error: null,
    createdAt: instant(message['create_time']) ?? '',
    updatedAt: '',
    generation: null,
  };
}
