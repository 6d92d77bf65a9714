import { sendMessage } from '../../src/test-support/sse-client.js';
import { api } from './http.js';
import type { AckedUserMessage, CutAnswer, Ledger } from './ledger.js';
import type { Random } from './random.js';

export interface ChaosUser {
  index: number;
  username: string;
  password: string;
  cookie: string;
  /** The conversation being written to; kept from round to round. */
  conversation: { id: string; model: string; sent: number } | null;
}

export interface LoadContext {
  baseUrl: string;
  ledger: Ledger;
  random: Random;
  round: number;
  /** True once the harness has decided to kill: failures from then on are expected. */
  killed(): boolean;
}

export interface LoadFigures {
  messages: number;
  /** Stream `error` events: the fake upstream never fails, so these say something broke. */
  streamErrors: string[];
  /** Failures before the kill (retried). */
  transientErrors: number;
}

const MESSAGES_PER_CONVERSATION = 12;
const WORDS = ['durable', 'ünïcode', 'checkpoint', 'שלום', 'WAL', '日本語', 'kill', '🙂', 'fsync'];

/**
 * One user chatting until the process is killed: creates conversations, renames them, sends
 * messages to `fake/echo` and `fake/slow`, and records in the ledger every write it was told
 * succeeded, exactly as it saw it.
 */
export async function chat(user: ChaosUser, context: LoadContext): Promise<LoadFigures> {
  const figures: LoadFigures = { messages: 0, streamErrors: [], transientErrors: 0 };
  const { baseUrl, ledger, random, round } = context;
  while (!context.killed()) {
    try {
      const conversation = user.conversation;
      if (!conversation || conversation.sent >= MESSAGES_PER_CONVERSATION) {
        // Mostly quick answers (volume); slow ones are those a kill cuts mid-stream.
        const model = random.chance(0.3) ? 'fake/slow' : 'fake/echo';
        const title = `chaos u${user.index} r${round} ${random.int(0, 1e6)}`;
        const created = await api(baseUrl, user.cookie, 'POST', '/api/conversations', {
          title,
          model,
        });
        if (created.status !== 201) throw new Error(`create answered ${created.status}`);
        ledger.conversations.set(created.body.id, {
          id: created.body.id,
          user: user.index,
          title,
          pendingTitle: null,
        });
        user.conversation = { id: created.body.id, model, sent: 0 };
      } else if (conversation.sent > 0 && random.chance(0.15)) {
        await rename(user, conversation.id, context);
      } else {
        await send(user, conversation, context, figures);
      }
    } catch {
      if (context.killed()) break;
      figures.transientErrors++;
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  }
  return figures;
}

async function rename(user: ChaosUser, conversationId: string, context: LoadContext) {
  const acked = context.ledger.conversations.get(conversationId);
  if (!acked) throw new Error(`conversation ${conversationId} is not in the ledger`);
  const title = `renamed u${user.index} r${context.round} ${context.random.int(0, 1e6)}`;
  acked.pendingTitle = title;
  const answer = await api(
    context.baseUrl,
    user.cookie,
    'PATCH',
    `/api/conversations/${conversationId}`,
    { title },
  );
  if (answer.status !== 200) throw new Error(`rename answered ${answer.status}`);
  acked.title = title;
  acked.pendingTitle = null;
  context.ledger.renames++;
}

async function send(
  user: ChaosUser,
  conversation: { id: string; model: string; sent: number },
  context: LoadContext,
  figures: LoadFigures,
) {
  const { random, ledger } = context;
  const slow = conversation.model === 'fake/slow';
  const chunks = slow ? random.int(3, 30) : random.int(1, 12);
  const delay = slow ? random.int(5, 25) : random.int(0, 3);
  const words = Array.from({ length: random.int(1, 8) }, () => random.pick(WORDS)).join(' ');
  // Unique, so that each message can also be found by its text.
  const content = `u${user.index} r${context.round} #${conversation.sent} ${random.int(0, 1e9)} ${words} [fake chunks=${chunks} delay=${delay}]`;
  let acked: AckedUserMessage | null = null;
  let answer: CutAnswer | null = null;
  conversation.sent++;
  const stream = await sendMessage(
    context.baseUrl,
    user.cookie,
    conversation.id,
    { content },
    {
      onEvent(event) {
        switch (event.event) {
          // The acknowledgement: the question and its answer's row are committed. (The stream
          // opens before, and its first tokens may come first.)
          case 'user_message':
            acked = {
              user: user.index,
              conversationId: conversation.id,
              content,
              id: event.data.id as string,
            };
            ledger.userMessages.push(acked);
            if (answer) ledger.cut.set(answer.messageId, answer);
            break;
          case 'assistant_message':
            answer = {
              user: user.index,
              conversationId: conversation.id,
              messageId: event.data.messageId,
              seen: '',
            };
            if (acked) ledger.cut.set(answer.messageId, answer);
            break;
          case 'delta':
            if (answer) answer.seen += event.data.content;
            break;
          case 'done':
            if (answer && event.data.status === 'complete') {
              ledger.cut.delete(answer.messageId);
              ledger.answers.push({
                user: user.index,
                conversationId: conversation.id,
                messageId: answer.messageId,
                content: answer.seen,
              });
            }
            break;
          case 'error':
            figures.streamErrors.push(`${event.data.code}: ${event.data.message}`);
            if (answer) ledger.cut.delete(answer.messageId);
            break;
        }
      },
    },
  );
  if (stream.status === 200) figures.messages++;
  if (stream.status !== 200 || stream.broken) {
    throw new Error(`send: status ${stream.status}${stream.broken ? ', broken' : ''}`);
  }
}
