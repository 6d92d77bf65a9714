import { describe, expect, it } from 'vitest';
import { isTyping, modName, shortcutOf, type KeyInput } from './shortcuts';

const key = (k: string, more: Partial<KeyInput> = {}): KeyInput => ({
  key: k,
  ctrlKey: false,
  metaKey: false,
  shiftKey: false,
  altKey: false,
  typing: false,
  ...more,
});

describe('shortcutOf', () => {
  it('maps the workspace shortcuts, with Ctrl or ⌘', () => {
    expect(shortcutOf(key('O', { ctrlKey: true, shiftKey: true }))).toBe('newChat');
    expect(shortcutOf(key('o', { metaKey: true, shiftKey: true }))).toBe('newChat');
    expect(shortcutOf(key('L', { ctrlKey: true, shiftKey: true }))).toBe('temporaryChat');
    expect(shortcutOf(key('l', { metaKey: true, shiftKey: true }))).toBe('temporaryChat');
    expect(shortcutOf(key('k', { ctrlKey: true }))).toBe('search');
    expect(shortcutOf(key('k', { metaKey: true, typing: true }))).toBe('search');
    expect(shortcutOf(key('/', { ctrlKey: true }))).toBe('help');
    expect(shortcutOf(key('Escape'))).toBe('stop');
    expect(shortcutOf(key('Escape', { shiftKey: true }))).toBe('focusComposer');
    expect(shortcutOf(key('/'))).toBe('focusComposer');
  });

  it('leaves typing and other keys alone', () => {
    expect(shortcutOf(key('/', { typing: true }))).toBeNull();
    expect(shortcutOf(key('k'))).toBeNull();
    expect(shortcutOf(key('o', { ctrlKey: true }))).toBeNull();
    expect(shortcutOf(key('l', { ctrlKey: true }))).toBeNull();
    expect(shortcutOf(key('k', { ctrlKey: true, altKey: true }))).toBeNull();
    expect(shortcutOf(key('Enter'))).toBeNull();
  });

  it('knows text fields and the platform', () => {
    expect(isTyping(document.createElement('textarea'))).toBe(true);
    expect(isTyping(document.createElement('input'))).toBe(true);
    const box = document.createElement('input');
    box.type = 'checkbox';
    expect(isTyping(box)).toBe(false);
    expect(isTyping(document.body)).toBe(false);
    expect(modName('MacIntel')).toBe('⌘');
    expect(modName('Linux x86_64')).toBe('Ctrl');
  });
});
