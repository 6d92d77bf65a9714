/**
 * The workspace's keyboard shortcuts. Ctrl on Windows and Linux, ⌘ on macOS ("Mod").
 * Enter and Shift+Enter belong to the composer (components/Composer.tsx).
 */
export type ShortcutAction =
  'newChat' | 'temporaryChat' | 'search' | 'stop' | 'focusComposer' | 'help';

export interface Shortcut {
  action: ShortcutAction;
  keys: string;
  label: string;
}

export const SHORTCUTS: readonly Shortcut[] = [
  { action: 'newChat', keys: 'Mod+Shift+O', label: 'New chat' },
  { action: 'temporaryChat', keys: 'Mod+Shift+L', label: 'Temporary chat (not saved), on or off' },
  { action: 'search', keys: 'Mod+K', label: 'Search conversations (or models)' },
  { action: 'stop', keys: 'Esc', label: 'Stop the answer' },
  { action: 'focusComposer', keys: 'Shift+Esc or /', label: 'Focus the message box' },
  { action: 'help', keys: 'Mod+/', label: 'Show these shortcuts' },
];

export interface KeyInput {
  key: string;
  ctrlKey: boolean;
  metaKey: boolean;
  shiftKey: boolean;
  altKey: boolean;
  /** Focus is in a text field (typing "/" there types a slash). */
  typing: boolean;
}

/** Which shortcut a key press is, if any. */
export function shortcutOf(input: KeyInput): ShortcutAction | null {
  const mod = input.ctrlKey || input.metaKey;
  const key = input.key.length === 1 ? input.key.toLowerCase() : input.key;
  if (input.altKey) return null;
  if (mod && input.shiftKey && key === 'o') return 'newChat';
  if (mod && input.shiftKey && key === 'l') return 'temporaryChat';
  if (mod && !input.shiftKey && key === 'k') return 'search';
  if (mod && (key === '/' || key === '?')) return 'help';
  if (mod) return null;
  if (key === 'Escape') return input.shiftKey ? 'focusComposer' : 'stop';
  if (key === '/' && !input.shiftKey && !input.typing) return 'focusComposer';
  return null;
}

/** Whether an element takes typed text. */
export function isTyping(target: EventTarget | null): boolean {
  if (!(target instanceof HTMLElement)) return false;
  if (target.isContentEditable) return true;
  if (target instanceof HTMLTextAreaElement || target instanceof HTMLSelectElement) return true;
  if (target instanceof HTMLInputElement) {
    return !['checkbox', 'radio', 'button', 'submit', 'reset', 'range', 'color'].includes(
      target.type,
    );
  }
  return false;
}

/** "Mod" as this platform names it. */
export function modName(
  platform = typeof navigator === 'undefined' ? '' : navigator.platform,
): string {
  return /Mac|iPhone|iPad/.test(platform) ? '⌘' : 'Ctrl';
}
