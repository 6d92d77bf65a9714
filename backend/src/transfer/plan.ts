import { AppError } from '../errors.js';
import type { GenerationParams, MessageStatus, ProviderRouting } from '../conversations/schemas.js';
import type { ExportGeneration, ExportMessage, ExportSource, ImportFormat } from './schemas.js';

/** At most this many conversations, and messages in all, per import (413 past either). */
export const MAX_IMPORT_CONVERSATIONS = 10_000;
export const MAX_IMPORT_MESSAGES = 200_000;
/** Titles are cut to the length the conversations API accepts. */
const MAX_TITLE = 200;
export const IMPORTED_TITLE = 'Imported chat';

/** A message as read from a file: `key` and `parentKey` are the file's ids, not ours. */
export interface PlannedMessage {
  key: string;
  parentKey: string | null;
  role: ExportMessage['role'];
  content: string;
  reasoning: string | null;
  /** Web pages an answer cites (this app's archives only); null: none. */
  sources: ExportSource[] | null;
  model: string | null;
  status: Exclude<MessageStatus, 'streaming'>;
  error: string | null;
  createdAt: string;
  updatedAt: string;
  generation: ExportGeneration | null;
}

/** A comparison as read from a file: the file's ids of its question and answers. */
export interface PlannedComparison {
  questionKey: string;
  answerKeys: string[];
  chosenKey: string | null;
  createdAt: string;
  chosenAt: string | null;
}

export interface PlannedConversation {
  title: string;
  model: string | null;
  fallbackModels: string[];
  /** Provider routing (this app's archives only); null: OpenRouter's default. */
  providerRouting: ProviderRouting | null;
  /** This app's archive only (the other formats' system prompts are not read): none when left out. */
  systemPrompt?: string | null;
  /** This app's archive only: no overrides when left out. */
  params?: GenerationParams;
  createdAt: string;
  updatedAt: string;
  /** Parents before their children. */
  messages: PlannedMessage[];
  /** Its comparisons (this app's archives only); absent: none. */
  comparisons?: PlannedComparison[];
}

/** Everything an import will write, read and checked in full before anything is written. */
export interface ImportPlan {
  format: ImportFormat;
  conversations: PlannedConversation[];
  skipped: Map<string, number>;
}

export function invalid(reason: string): AppError {
  return new AppError('import.invalid', `The file cannot be imported: ${reason}`);
}

/** Counts what goes in and refuses a file past the limits before it is all read. */
export function createPlan(format: ImportFormat): ImportPlan & {
  skip(what: string, count?: number): void;
  add(conversation: PlannedConversation): void;
} {
  const conversations: PlannedConversation[] = [];
  const skipped = new Map<string, number>();
  let messages = 0;
  return {
    format,
    conversations,
    skipped,
    skip(what, count = 1) {
      if (count > 0) skipped.set(what, (skipped.get(what) ?? 0) + count);
    },
    add(conversation) {
      if (conversation.messages.length === 0) {
        skipped.set(
          'conversation without any text message',
          (skipped.get('conversation without any text message') ?? 0) + 1,
        );
        return;
      }
      conversations.push(conversation);
      messages += conversation.messages.length;
      if (conversations.length > MAX_IMPORT_CONVERSATIONS) {
        throw new AppError(
          'import.too_large',
          `The file holds more than ${MAX_IMPORT_CONVERSATIONS.toLocaleString('en')} conversations: import it in parts.`,
        );
      }
      if (messages > MAX_IMPORT_MESSAGES) {
        throw new AppError(
          'import.too_large',
          `The file holds more than ${MAX_IMPORT_MESSAGES.toLocaleString('en')} messages: import it in parts.`,
        );
      }
    },
  };
}

export function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

export function text(value: unknown): string | null {
  return typeof value === 'string' ? value : null;
}

/** A title as the conversations API would take it: trimmed, at most 200 characters. */
export function titleOf(...candidates: unknown[]): string {
  for (const candidate of candidates) {
    const title = typeof candidate === 'string' ? candidate.trim() : '';
    if (title !== '') return [...title].slice(0, MAX_TITLE).join('');
  }
  return IMPORTED_TITLE;
}

/** A model id as a message records it: trimmed, at most 200 characters, else none. */
export function modelOf(value: unknown): string | null {
  const model = typeof value === 'string' ? value.trim() : '';
  return model === '' || model.length > 200 ? null : model;
}

const EARLIEST = Date.UTC(1990, 0, 1);
const LATEST = Date.UTC(2200, 0, 1);

/**
 * A point in time from an export: Unix seconds (ChatGPT's floats, Open WebUI's integers),
 * milliseconds, microseconds or nanoseconds (told apart by magnitude; older Open WebUI
 * versions wrote nanoseconds), or an ISO 8601 string. Kept to the millisecond, as the
 * app writes its own. Null when missing or outside 1990–2200.
 */
export function instant(value: unknown): string | null {
  let ms: number;
  if (typeof value === 'number' && Number.isFinite(value) && value > 0) {
    ms =
      value < 1e11 ? value * 1000 : value < 1e14 ? value : value < 1e17 ? value / 1e3 : value / 1e6;
  } else if (typeof value === 'string' && value.trim() !== '') {
    const numeric = Number(value);
    if (Number.isFinite(numeric)) return instant(numeric);
    ms = Date.parse(value);
  } else {
    return null;
  }
  if (!Number.isFinite(ms) || ms < EARLIEST || ms > LATEST) return null;
  return new Date(Math.round(ms)).toISOString();
}

export interface TreeNode<T> {
  parentKey: string | null;
  /** Null for a node left out: its children hang on its nearest kept ancestor instead. */
  value: T | null;
}

/**
 * The kept nodes of a tree, parents first, each with the key of its nearest kept ancestor.
 * A parent missing from the file makes a root; nodes on a cycle (no root above them) are
 * unreachable and left out, counted in `unreachable`.
 */
export function keptTree<T>(nodes: ReadonlyMap<string, TreeNode<T>>): {
  kept: Array<{ key: string; parentKey: string | null; value: T }>;
  unreachable: number;
} {
  const children = new Map<string, string[]>();
  const roots: string[] = [];
  for (const [key, node] of nodes) {
    if (node.parentKey !== null && node.parentKey !== key && nodes.has(node.parentKey)) {
      const list = children.get(node.parentKey);
      if (list) list.push(key);
      else children.set(node.parentKey, [key]);
    } else {
      roots.push(key);
    }
  }
  const kept: Array<{ key: string; parentKey: string | null; value: T }> = [];
  const visited = new Set<string>();
  // Depth first, without recursion: a ChatGPT conversation can be thousands of nodes deep.
  const stack: Array<{ key: string; keptAncestor: string | null }> = roots
    .reverse()
    .map((key) => ({ key, keptAncestor: null }));
  while (stack.length > 0) {
    const { key, keptAncestor } = stack.pop()!;
    if (visited.has(key)) continue;
    visited.add(key);
    const node = nodes.get(key)!;
    let ancestor = keptAncestor;
    if (node.value !== null) {
      kept.push({ key, parentKey: keptAncestor, value: node.value });
      ancestor = key;
    }
    const below = children.get(key) ?? [];
    for (let i = below.length - 1; i >= 0; i -= 1) {
      stack.push({ key: below[i]!, keptAncestor: ancestor });
    }
  }
  let unreachable = 0;
  for (const [key, node] of nodes) if (!visited.has(key) && node.value !== null) unreachable += 1;
  return { kept, unreachable };
}
