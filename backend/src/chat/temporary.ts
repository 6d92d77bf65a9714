import { AppError } from '../errors.js';
import type { TemporaryChatBody } from './schemas.js';

/**
 * A temporary chat's history as sent upstream: the client holds it (nothing is stored), and
 * its last message must be the question to answer. Empty messages (answers that failed before
 * writing anything) are left out, as for a conversation's branch.
 */
export function temporaryHistory(
  messages: TemporaryChatBody['messages'],
): TemporaryChatBody['messages'] {
  const last = messages.at(-1);
  if (last?.role !== 'user' || last.content === '') throw new AppError('temporary.no_question');
  return messages.filter((m) => m.content !== '').map(({ role, content }) => ({ role, content }));
}
