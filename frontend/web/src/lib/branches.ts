import type { Choices } from './thread';

/**
 * The branch chosen at each fork of a conversation (lib/thread.ts), remembered in this
 * browser's localStorage so a reload shows the same branch. Unavailable storage (private
 * mode) or a damaged entry just means no choice: the newest branch shows.
 */
const PREFIX = 'branches:';

export function readChoices(conversationId: string): Choices {
  try {
    const text = window.localStorage.getItem(PREFIX + conversationId);
    if (text === null) return {};
    const value: unknown = JSON.parse(text);
    if (typeof value !== 'object' || value === null || Array.isArray(value)) return {};
    const choices: Record<string, string> = {};
    for (const [fork, id] of Object.entries(value)) if (typeof id === 'string') choices[fork] = id;
    return choices;
  } catch {
    return {};
  }
}

export function saveChoices(conversationId: string, choices: Choices): void {
  try {
    if (Object.keys(choices).length === 0) window.localStorage.removeItem(PREFIX + conversationId);
    else window.localStorage.setItem(PREFIX + conversationId, JSON.stringify(choices));
  } catch {
    // Not remembered across reloads; the choice holds for this visit.
  }
}
