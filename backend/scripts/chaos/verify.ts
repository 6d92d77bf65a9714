import { read } from './http.js';
import type { Ledger } from './ledger.js';
import type { ChaosUser } from './load.js';

/** A message as GET /api/conversations/:id returns it (the fields checked here). */
export interface ObservedMessage {
  id: string;
  parentId: string | null;
  role: string;
  content: string;
  status: string;
}

export interface ObservedConversation {
  id: string;
  title: string;
  messages: ObservedMessage[];
}

export interface Findings {
  /** Acknowledged writes not in the database. */
  lost: string[];
  /** Acknowledged writes present but not as the client saw them. */
  corrupt: string[];
  /** Rows still `streaming` after a restart (recovery should have marked them interrupted). */
  streaming: string[];
  /** A user message without its answer row: the two are written in one transaction. */
  torn: string[];
  /** Ledger entries checked. */
  checked: number;
  /** Messages read back and examined. */
  messages: number;
}

export const noFindings = (): Findings => ({
  lost: [],
  corrupt: [],
  streaming: [],
  torn: [],
  checked: 0,
  messages: 0,
});

export function addFindings(total: Findings, more: Findings): void {
  total.lost.push(...more.lost);
  total.corrupt.push(...more.corrupt);
  total.streaming.push(...more.streaming);
  total.torn.push(...more.torn);
  total.checked += more.checked;
  total.messages += more.messages;
}

/**
 * Compares what one user's client was told (the ledger) with what the database holds (every
 * conversation of that user, acknowledged or not). Pure, so its own test can feed it losses.
 */
export function compare(
  user: number,
  ledger: Ledger,
  observed: Map<string, ObservedConversation>,
): Findings {
  const findings = noFindings();
  for (const conversation of observed.values()) {
    const answered = new Set(
      conversation.messages.filter((m) => m.role === 'assistant').map((m) => m.parentId),
    );
    for (const message of conversation.messages) {
      findings.messages++;
      if (message.status === 'streaming') findings.streaming.push(message.id);
      if (message.role === 'user' && !answered.has(message.id)) findings.torn.push(message.id);
    }
  }

  for (const acked of ledger.conversationsOf(user)) {
    findings.checked++;
    const found = observed.get(acked.id);
    if (!found) {
      findings.lost.push(`conversation ${acked.id}`);
      continue;
    }
    const allowed = [acked.title, acked.pendingTitle].filter((t) => t !== null);
    if (!allowed.includes(found.title)) {
      findings.corrupt.push(
        `conversation ${acked.id}: title "${found.title}", expected ${allowed.join(' or ')}`,
      );
    }
  }

  const messagesOf = (conversationId: string) => observed.get(conversationId)?.messages ?? [];
  for (const acked of ledger.userMessages.filter((m) => m.user === user)) {
    findings.checked++;
    const found = messagesOf(acked.conversationId).find((m) =>
      acked.id === null ? m.role === 'user' && m.content === acked.content : m.id === acked.id,
    );
    if (!found) findings.lost.push(`user message ${acked.id ?? JSON.stringify(acked.content)}`);
    else if (found.content !== acked.content || found.role !== 'user') {
      findings.corrupt.push(`user message ${found.id}: content differs`);
    }
  }

  for (const acked of ledger.answers.filter((a) => a.user === user)) {
    findings.checked++;
    const found = messagesOf(acked.conversationId).find((m) => m.id === acked.messageId);
    if (!found) findings.lost.push(`answer ${acked.messageId}`);
    else if (found.status !== 'complete' || found.content !== acked.content) {
      findings.corrupt.push(
        `answer ${acked.messageId}: ${found.status}, ${found.content.length} characters where ${acked.content.length} were streamed`,
      );
    }
  }

  // An answer whose stream was cut: its row was committed with the question (the client got
  // assistant_message), and what it saved and what the client saw are prefixes of one text.
  for (const cut of [...ledger.cut.values()].filter((c) => c.user === user)) {
    findings.checked++;
    const found = messagesOf(cut.conversationId).find((m) => m.id === cut.messageId);
    if (!found) findings.lost.push(`answer row ${cut.messageId} (stream cut)`);
    else if (!found.content.startsWith(cut.seen) && !cut.seen.startsWith(found.content)) {
      findings.corrupt.push(
        `answer ${cut.messageId} (stream cut): saved text is not the streamed one`,
      );
    }
  }
  return findings;
}

/** Reads back every conversation of every user over the API and compares with the ledger. */
export async function verifyAll(
  baseUrl: string,
  users: ChaosUser[],
  ledger: Ledger,
): Promise<Findings> {
  const total = noFindings();
  for (const user of users) {
    const me = await read(baseUrl, user.cookie, '/api/auth/me');
    total.checked++;
    if (me.status !== 200) total.lost.push(`session of ${user.username} (${me.status})`);

    const ids = new Set<string>(ledger.conversationsOf(user.index).map((c) => c.id));
    let cursor: string | null = null;
    do {
      const query: string = cursor === null ? '' : `&cursor=${encodeURIComponent(cursor)}`;
      const page = await read(baseUrl, user.cookie, `/api/conversations?limit=100${query}`);
      if (page.status !== 200) throw new Error(`listing conversations answered ${page.status}`);
      for (const c of page.body.conversations as Array<{ id: string }>) ids.add(c.id);
      cursor = page.body.nextCursor;
    } while (cursor !== null);

    const observed = new Map<string, ObservedConversation>();
    for (const id of ids) {
      const answer = await read(baseUrl, user.cookie, `/api/conversations/${id}`);
      if (answer.status === 404) continue;
      if (answer.status !== 200) throw new Error(`reading ${id} answered ${answer.status}`);
      observed.set(id, {
        id,
        title: answer.body.conversation.title,
        messages: answer.body.messages,
      });
    }
    addFindings(total, compare(user.index, ledger, observed));
  }
  return total;
}
