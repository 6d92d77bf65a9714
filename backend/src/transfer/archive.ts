import { Ajv } from 'ajv';
import addFormats from 'ajv-formats';
import { checkRouting } from '../conversations/service.js';
import type { ProviderRouting } from '../conversations/schemas.js';
import { httpUrl } from '../openrouter/chunks.js';
import {
  ARCHIVE_FORMAT,
  ARCHIVE_VERSION,
  ExportArchive,
  type ExportComparison,
  type ExportMessage,
  type ExportSource,
} from './schemas.js';
import {
  createPlan,
  invalid,
  isObject,
  MAX_IMPORT_CONVERSATIONS,
  MAX_IMPORT_MESSAGES,
  titleOf,
  type ImportPlan,
  type PlannedComparison,
  type PlannedMessage,
} from './plan.js';
import { AppError, isAppError } from '../errors.js';

export function looksLikeArchive(body: unknown): boolean {
  return isObject(body) && body['format'] === ARCHIVE_FORMAT;
}

const validate = addFormats
  .default(new Ajv({ allErrors: false, strict: false }))
  .compile(ExportArchive);

/**
 * This app's own export (schemas.ts ExportArchive), checked against its schema: a file that
 * does not match it is refused with the first place that does not, and nothing is written.
 * Ids are the file's; each conversation's parent links must stay inside it and form a tree.
 */
export function planArchive(body: Record<string, unknown>): ImportPlan {
  if (body['version'] !== ARCHIVE_VERSION) {
    throw invalid(
      `this archive is version ${JSON.stringify(body['version'])}; this server reads version ${ARCHIVE_VERSION}.`,
    );
  }
  // Counted before the whole file is checked, so an oversized one is refused at once.
  const conversations = Array.isArray(body['conversations']) ? body['conversations'] : [];
  if (conversations.length > MAX_IMPORT_CONVERSATIONS) {
    throw new AppError(
      'import.too_large',
      `The file holds more than ${MAX_IMPORT_CONVERSATIONS.toLocaleString('en')} conversations: import it in parts.`,
    );
  }
  const messageCount = conversations.reduce(
    (sum: number, c: unknown) =>
      sum + (isObject(c) && Array.isArray(c['messages']) ? c['messages'].length : 0),
    0,
  );
  if (messageCount > MAX_IMPORT_MESSAGES) {
    throw new AppError(
      'import.too_large',
      `The file holds more than ${MAX_IMPORT_MESSAGES.toLocaleString('en')} messages: import it in parts.`,
    );
  }
  if (!validate(body)) {
    const first = validate.errors?.[0];
    const at = first?.instancePath ? first.instancePath.slice(1).replaceAll('/', '.') : 'the file';
    throw invalid(`${at} ${first?.message ?? 'is not valid'}.`);
  }
  const archive = body as unknown as ExportArchive;
  const plan = createPlan('ai-workspace');
  archive.conversations.forEach((conversation, index) => {
    const where = `conversations.${index}`;
    const ids = new Set<string>();
    for (const m of conversation.messages) {
      if (ids.has(m.id)) throw invalid(`${where}: message id "${m.id}" appears twice.`);
      ids.add(m.id);
    }
    const byId = new Map(conversation.messages.map((m) => [m.id, m]));
    for (const m of conversation.messages) {
      if (m.parentId !== null && !byId.has(m.parentId)) {
        throw invalid(
          `${where}: message "${m.id}" has a parent "${m.parentId}" that is not in it.`,
        );
      }
    }
    // The archive holds no file contents: the files are named as left out.
    for (const m of conversation.messages) {
      const files = m.attachments?.length ?? 0;
      if (files > 0) plan.skip('attachment (the archive holds no file contents)', files);
    }
    const messages: PlannedMessage[] = parentsFirst(conversation.messages, where).map((m) => ({
      key: m.id,
      parentKey: m.parentId,
      role: m.role,
      content: m.content,
      reasoning: m.reasoning,
      sources: sourcesOf(m.sources, plan.skip),
      model: m.model,
      // An answer that was still being written when exported is not running here.
      status: m.status === 'streaming' ? 'interrupted' : m.status,
      error:
        m.status === 'streaming'
          ? (m.error ?? 'The answer was still being written when it was exported.')
          : m.error,
      createdAt: m.createdAt,
      updatedAt: m.updatedAt,
      generation: m.generation,
    }));
    plan.add({
      title: titleOf(conversation.title),
      model: conversation.model === '' ? null : conversation.model,
      fallbackModels: conversation.fallbackModels,
      providerRouting: routingOf(conversation.providerRouting, where),
      systemPrompt: conversation.systemPrompt === '' ? null : (conversation.systemPrompt ?? null),
      params: conversation.params ?? {},
      createdAt: conversation.createdAt,
      updatedAt: conversation.updatedAt,
      messages,
      comparisons: comparisonsOf(conversation.comparisons ?? [], byId, where),
    });
  });
  return plan;
}

/**
 * A conversation's comparisons, checked as the chat makes them: each question a user message
 * of the conversation, each answer an assistant message whose parent is that question and in
 * one comparison only, the chosen answer one of them; files from before comparisons have none.
 */
function comparisonsOf(
  comparisons: readonly ExportComparison[],
  byId: ReadonlyMap<string, ExportMessage>,
  where: string,
): PlannedComparison[] {
  const ids = new Set<string>();
  const answered = new Set<string>();
  return comparisons.map((c, index) => {
    const at = `${where}.comparisons.${index}`;
    if (ids.has(c.id)) throw invalid(`${at}: comparison id "${c.id}" appears twice.`);
    ids.add(c.id);
    if (byId.get(c.questionId)?.role !== 'user') {
      throw invalid(`${at}: its question "${c.questionId}" is not a user message of it.`);
    }
    for (const answerId of c.answerIds) {
      const answer = byId.get(answerId);
      if (answer?.role !== 'assistant' || answer.parentId !== c.questionId) {
        throw invalid(`${at}: "${answerId}" is not an answer to its question.`);
      }
      if (answered.has(answerId)) {
        throw invalid(`${at}: the answer "${answerId}" is in another comparison too.`);
      }
      answered.add(answerId);
    }
    if (c.chosenId !== null && !c.answerIds.includes(c.chosenId)) {
      throw invalid(`${at}: the chosen answer "${c.chosenId}" is not one of its answers.`);
    }
    return {
      questionKey: c.questionId,
      answerKeys: [...c.answerIds],
      chosenKey: c.chosenId,
      createdAt: c.createdAt,
      chosenAt: c.chosenId === null ? null : c.chosenAt,
    };
  });
}

/**
 * An answer's cited pages as the chat keeps them: absolute http(s) URLs only (a file may say
 * anything: a javascript: link is left out and counted), each once. Null when none is left;
 * files from before sources were exported have none.
 */
function sourcesOf(
  sources: readonly ExportSource[] | null | undefined,
  skip: (what: string) => void,
): ExportSource[] | null {
  if (!sources) return null;
  const kept: ExportSource[] = [];
  const seen = new Set<string>();
  for (const source of sources) {
    const url = httpUrl(source.url);
    if (url === null) {
      skip('source link that is not an http(s) URL');
      continue;
    }
    if (seen.has(url)) continue;
    seen.add(url);
    kept.push({ url, title: source.title?.trim() || null });
  }
  return kept.length > 0 ? kept : null;
}

/**
 * The conversation's provider routing, checked as the conversations API checks it (the schema
 * above, then a provider both allowed and ignored is refused); absent in older files: none.
 */
function routingOf(
  routing: ProviderRouting | null | undefined,
  where: string,
): ProviderRouting | null {
  try {
    return checkRouting(routing ?? null);
  } catch (error) {
    if (isAppError(error)) throw invalid(`${where}.${error.message}`);
    throw error;
  }
}

/** The messages ordered so each parent comes before its children; a parent loop is refused. */
function parentsFirst<T extends { id: string; parentId: string | null }>(
  messages: readonly T[],
  where: string,
): T[] {
  const children = new Map<string | null, T[]>();
  for (const m of messages) {
    const list = children.get(m.parentId);
    if (list) list.push(m);
    else children.set(m.parentId, [m]);
  }
  const ordered: T[] = [];
  const queue = [...(children.get(null) ?? [])];
  for (let i = 0; i < queue.length; i += 1) {
    const m = queue[i]!;
    ordered.push(m);
    for (const child of children.get(m.id) ?? []) queue.push(child);
  }
  if (ordered.length !== messages.length) {
    throw invalid(`${where}: its messages' parent links form a loop.`);
  }
  return ordered;
}
