import { afterEach, describe, expect, it, vi } from 'vitest';
import { applyTheme, nextThemeChoice, readThemeChoice, resolveTheme } from './theme';

afterEach(() => {
  vi.unstubAllGlobals();
  localStorage.clear();
});

function systemDark(dark: boolean) {
  vi.stubGlobal('matchMedia', (query: string) => ({
    matches: dark && query.includes('dark'),
    addEventListener: () => undefined,
    removeEventListener: () => undefined,
  }));
}

describe('themes', () => {
  it('reads the stored choice, system by default', () => {
    expect(readThemeChoice()).toBe('system');
    localStorage.setItem('theme', 'dark');
    expect(readThemeChoice()).toBe('dark');
    localStorage.setItem('theme', 'purple');
    expect(readThemeChoice()).toBe('system');
    expect(
      readThemeChoice({
        getItem: () => {
          throw new Error('denied');
        },
      }),
    ).toBe('system');
  });

  it('resolves system from prefers-color-scheme', () => {
    expect(resolveTheme('system', true)).toBe('dark');
    expect(resolveTheme('system', false)).toBe('light');
    expect(resolveTheme('light', true)).toBe('light');
  });

  it('applies the theme to the root element', () => {
    systemDark(true);
    const root = document.createElement('html');
    expect(applyTheme('system', root)).toBe('dark');
    expect(root.dataset['theme']).toBe('dark');
    expect(applyTheme('light', root)).toBe('light');
    expect(root.dataset['theme']).toBe('light');
    expect(root.dataset['themeChoice']).toBe('light');
  });

  it('cycles system → light → dark', () => {
    expect(nextThemeChoice('system')).toBe('light');
    expect(nextThemeChoice('light')).toBe('dark');
    expect(nextThemeChoice('dark')).toBe('system');
  });
});
