/**
 * Every write a client was told succeeded (an acknowledged write), as the client saw it.
 * After each restart the database must hold every one of them.
 */
export interface AckedConversation {
  id: string;
  user: number;
  /** The last title a rename of it was acknowledged with, or null. */
  title: string | null;
  /** A rename sent but not acknowledged (the kill came first): either title may be saved. */
  pendingTitle: string | null;
}

export interface AckedUserMessage {
  user: number;
  conversationId: string;
  content: string;
  /** From the `user_message` event, which acknowledges it (the question committed); null: matched by its text. */
  id: string | null;
}

export interface AckedAnswer {
  user: number;
  conversationId: string;
  messageId: string;
  /** Every delta the client received, joined: the saved answer must equal it. */
  content: string;
}

/** An answer whose stream the kill cut: what it saved must agree with what the client saw. */
export interface CutAnswer {
  user: number;
  conversationId: string;
  messageId: string;
  seen: string;
}

export class Ledger {
  readonly conversations = new Map<string, AckedConversation>();
  readonly userMessages: AckedUserMessage[] = [];
  readonly answers: AckedAnswer[] = [];
  readonly cut = new Map<string, CutAnswer>();
  renames = 0;
  sessions = 0;

  /** Acknowledged writes so far: conversations, renames, user messages, answers, sessions. */
  get acknowledged(): number {
    return (
      this.conversations.size +
      this.renames +
      this.userMessages.length +
      this.answers.length +
      this.sessions
    );
  }

  conversationsOf(user: number): AckedConversation[] {
    return [...this.conversations.values()].filter((c) => c.user === user);
  }
}
