import type { ProviderRouting } from '../conversations/schemas.js';
import type { ConversationHead } from './repo.js';
import type { ExportComparison, ExportGeneration, ExportMessage, ExportSource } from './schemas.js';

/**
 * A conversation as Markdown: the branch the app shows (root to the newest message) first,
 * then every other branch from the message it splits off at, so nothing in the tree is lost.
 * Each message is a heading (role, model, time) over its text as written, its reasoning as a
 * quote, the pages it cites as a list of links, and the answer's figures (tokens, cost,
 * provider, timings) in a line of small print.
 */
export function conversationMarkdown(
  conversation: ConversationHead,
  messages: readonly ExportMessage[],
  exportedAt: string,
  comparisons: readonly ExportComparison[] = [],
): string {
  const out: string[] = [`# ${oneLine(conversation.title)}`, ''];
  const facts = [`Exported ${when(exportedAt)}`, `started ${when(conversation.createdAt)}`];
  if (conversation.model) facts.push(`model ${conversation.model}`);
  if (conversation.fallbackModels.length > 0) {
    facts.push(`fallback models ${conversation.fallbackModels.join(', ')}`);
  }
  if (conversation.providerRouting) {
    facts.push(`provider routing: ${routingText(conversation.providerRouting)}`);
  }
  const branches = branchesOf(messages);
  facts.push(
    `${messages.length} message${messages.length === 1 ? '' : 's'}`,
    `${branches.length} branch${branches.length === 1 ? '' : 'es'}`,
  );
  if (comparisons.length > 0) {
    facts.push(`${comparisons.length} comparison${comparisons.length === 1 ? '' : 's'}`);
  }
  // Each compared answer says so in its heading: "answer 2 of 3 compared", and which was chosen.
  const compared = new Map<string, string>();
  for (const c of comparisons) {
    c.answerIds.forEach((id, i) => {
      const chosen = c.chosenId === id ? ', chosen' : '';
      compared.set(id, `answer ${i + 1} of ${c.answerIds.length} compared${chosen}`);
    });
  }
  out.push(`_${facts.join(' · ')}_`, '');
  const settings = paramsLine(conversation.params);
  if (settings) out.push(`_Parameters: ${settings}_`, '');
  if (conversation.systemPrompt) {
    out.push(
      '> **System prompt**',
      '>',
      ...conversation.systemPrompt.split('\n').map((l) => `> ${l}`.trimEnd()),
      '',
    );
  }

  const printed = new Map<string, number>();
  let number = 0;
  branches.forEach((branch, index) => {
    if (branches.length > 1) {
      out.push('---', '', `## Branch ${index + 1} of ${branches.length}`, '');
      const fork = branch.find((m) => !printed.has(m.id));
      const parent = fork?.parentId ? printed.get(fork.parentId) : undefined;
      if (index === 0) out.push('_The branch shown in the app: up to the newest message._', '');
      else if (parent !== undefined) out.push(`_Continues from message ${parent}._`, '');
    }
    for (const message of branch) {
      if (printed.has(message.id)) continue;
      number += 1;
      printed.set(message.id, number);
      out.push(...messageMarkdown(message, number, compared.get(message.id)), '');
    }
  });
  return `${out.join('\n').trimEnd()}\n`;
}

function messageMarkdown(m: ExportMessage, number: number, compared?: string): string[] {
  const role = m.role === 'user' ? 'User' : m.role === 'assistant' ? 'Assistant' : 'System';
  const heading = [`${number}. ${role}`];
  if (m.model) heading.push(m.model);
  heading.push(when(m.createdAt));
  if (compared) heading.push(compared);
  const lines = [`### ${heading.join(' · ')}`, ''];
  if (m.reasoning) {
    lines.push(
      '> **Reasoning**',
      '>',
      ...m.reasoning.split('\n').map((l) => `> ${l}`.trimEnd()),
      '',
    );
  }
  lines.push(m.content === '' ? '_(no text)_' : m.content);
  if (m.sources && m.sources.length > 0) {
    lines.push('', '**Sources**', '', ...m.sources.map((s, i) => `${i + 1}. ${sourceLink(s)}`));
  }
  if (m.attachments && m.attachments.length > 0) {
    const files = m.attachments.map((a) => `${oneLine(a.name)} (${a.mediaType}, ${size(a.size)})`);
    lines.push('', `_Attached: ${files.join(', ')}_`);
  }
  if (m.status !== 'complete') {
    lines.push('', `_Status: ${m.status}${m.error ? ` — ${oneLine(m.error)}` : ''}_`);
  }
  const figures = m.generation ? figuresOf(m.generation) : '';
  if (figures) lines.push('', `<sub>${figures}</sub>`);
  return lines;
}

function paramsLine(p: ConversationHead['params']): string {
  const parts: string[] = [];
  if (p.temperature !== undefined) parts.push(`temperature ${p.temperature}`);
  if (p.topP !== undefined) parts.push(`top-p ${p.topP}`);
  if (p.maxTokens !== undefined) parts.push(`max tokens ${p.maxTokens}`);
  if (p.reasoningEffort !== undefined) parts.push(`reasoning effort ${p.reasoningEffort}`);
  return parts.join(' · ');
}

function figuresOf(g: ExportGeneration): string {
  const parts: string[] = [];
  if (g.promptTokens !== null || g.completionTokens !== null) {
    parts.push(`${g.promptTokens ?? '?'} prompt + ${g.completionTokens ?? '?'} completion tokens`);
  }
  if (g.reasoningTokens) parts.push(`${g.reasoningTokens} reasoning tokens`);
  if (g.cachedTokens) parts.push(`${g.cachedTokens} cached tokens`);
  if (g.cost !== null) parts.push(`$${g.cost.toFixed(6)}`);
  if (g.provider) parts.push(`via ${g.provider}`);
  if (g.timeToFirstTokenMs !== null) parts.push(`first token ${g.timeToFirstTokenMs} ms`);
  if (g.durationMs !== null) parts.push(`${(g.durationMs / 1000).toFixed(1)} s`);
  if (g.finishReason) parts.push(`finish: ${g.finishReason}`);
  return parts.join(' · ');
}

/** A cited page as a Markdown link: its title (or host) as text, the URL in angle brackets. */
function sourceLink(source: ExportSource): string {
  let label = source.title ? oneLine(source.title) : '';
  if (label === '') {
    try {
      label = new URL(source.url).host;
    } catch {
      label = source.url;
    }
  }
  const text = label.replace(/[\\[\]]/g, (c) => `\\${c}`);
  return `[${text}](<${source.url.replace(/[<>\s]/g, encodeURIComponent)}>)`;
}

/** Provider routing in words: "sort by price; only a, b; no data collection; …". */
function routingText(r: ProviderRouting): string {
  const parts: string[] = [];
  if (r.sort) parts.push(`sort by ${r.sort}`);
  if (r.order?.length) parts.push(`order ${r.order.join(', ')}`);
  if (r.only?.length) parts.push(`only ${r.only.join(', ')}`);
  if (r.ignore?.length) parts.push(`ignore ${r.ignore.join(', ')}`);
  if (r.allowFallbacks === false) parts.push('no other providers');
  if (r.dataCollection === 'deny') parts.push('no data collection');
  if (r.zdr) parts.push('zero data retention');
  if (r.maxPrice?.prompt !== undefined) parts.push(`max $${r.maxPrice.prompt}/M input`);
  if (r.maxPrice?.completion !== undefined) parts.push(`max $${r.maxPrice.completion}/M output`);
  return parts.join('; ');
}

/**
 * Every root-to-leaf path. The first is the one the app shows: to the newest message (latest
 * created_at, then the greatest id, as chat/branch.ts picks it); the others follow by the time
 * of their leaf.
 */
export function branchesOf(messages: readonly ExportMessage[]): ExportMessage[][] {
  const byId = new Map(messages.map((m) => [m.id, m]));
  const hasChild = new Set(messages.flatMap((m) => (m.parentId === null ? [] : [m.parentId])));
  const newerFirst = (a: ExportMessage, b: ExportMessage) =>
    a.createdAt !== b.createdAt ? (a.createdAt > b.createdAt ? -1 : 1) : a.id > b.id ? -1 : 1;
  const newest = [...messages].sort(newerFirst)[0];
  const leaves = messages.filter((m) => !hasChild.has(m.id)).sort(newerFirst);
  // The newest message may have children only if times go backwards; its path still comes first.
  const ordered = newest && !leaves.includes(newest) ? [newest, ...leaves] : leaves;
  return ordered.map((leaf) => {
    const path: ExportMessage[] = [];
    const seen = new Set<string>();
    for (let m: ExportMessage | undefined = leaf; m && !seen.has(m.id);) {
      path.push(m);
      seen.add(m.id);
      m = m.parentId === null ? undefined : byId.get(m.parentId);
    }
    return path.reverse();
  });
}

function when(iso: string): string {
  return `${iso.slice(0, 16).replace('T', ' ')} UTC`;
}

function size(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  if (bytes < 1024 * 1024) return `${(bytes / 1024).toFixed(1)} KB`;
  return `${(bytes / (1024 * 1024)).toFixed(1)} MB`;
}

function oneLine(text: string): string {
  return text.replace(/\s+/g, ' ').trim();
}
