import { act } from 'react';
import { createRoot, type Root } from 'react-dom/client';
import { afterEach, beforeEach } from 'vitest';

declare global {
  var IS_REACT_ACT_ENVIRONMENT: boolean;
}
// act() warns unless the environment says it is a test.
globalThis.IS_REACT_ACT_ENVIRONMENT = true;

export interface TestDom {
  /** This test's container, in the document (a new one for each test). */
  readonly container: HTMLDivElement;
  /** The React root on it. */
  readonly root: Root;
  /** The element of this data-testid in the container, or null. */
  readonly $: (testId: string) => HTMLElement | null;
}

/**
 * Call once at the top of a component test file: before each test a container is added to the
 * document with a React root on it; after the test the root is unmounted and the container
 * removed. Read `container` and `root` inside tests (they change from test to test).
 */
export function domPerTest(): TestDom {
  let container: HTMLDivElement | null = null;
  let root: Root | null = null;
  beforeEach(() => {
    container = document.createElement('div');
    document.body.append(container);
    root = createRoot(container);
  });
  afterEach(() => {
    act(() => root?.unmount());
    container?.remove();
    container = null;
    root = null;
  });
  const current = <T>(value: T | null, what: string): T => {
    if (value === null) throw new Error(`${what} exists only while a test runs`);
    return value;
  };
  return {
    get container() {
      return current(container, 'the container');
    },
    get root() {
      return current(root, 'the root');
    },
    $: (testId) =>
      current(container, 'the container').querySelector<HTMLElement>(`[data-testid="${testId}"]`),
  };
}
