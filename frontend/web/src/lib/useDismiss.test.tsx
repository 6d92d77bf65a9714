import { act, useRef, useState, type KeyboardEvent } from 'react';
import { createRoot, type Root } from 'react-dom/client';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { useDismiss } from './useDismiss';

declare global {
  var IS_REACT_ACT_ENVIRONMENT: boolean;
}
globalThis.IS_REACT_ACT_ENVIRONMENT = true;

/** A popover as the top bar's are: a toggle button and, while open, a panel beside it. */
function Popover({ handlesEscape = false }: { handlesEscape?: boolean }) {
  const [open, setOpen] = useState(false);
  const rootRef = useRef<HTMLDivElement>(null);
  const openerRef = useRef<HTMLButtonElement>(null);
  useDismiss(open, setOpen, rootRef, openerRef);
  const onKeyDown = (event: KeyboardEvent) => {
    // An inner control with its own use of Escape (the model picker's search box clears it).
    if (handlesEscape && event.key === 'Escape') event.preventDefault();
  };
  return (
    <div ref={rootRef}>
      <button ref={openerRef} data-testid="opener" onClick={() => setOpen(!open)}>
        Settings
      </button>
      {open && (
        <div data-testid="panel">
          <input data-testid="field" onKeyDown={onKeyDown} />
        </div>
      )}
    </div>
  );
}

let container: HTMLDivElement;
let outside: HTMLButtonElement;
let root: Root;

beforeEach(() => {
  container = document.createElement('div');
  outside = document.createElement('button');
  document.body.append(container, outside);
  root = createRoot(container);
});
afterEach(() => {
  act(() => root.unmount());
  container.remove();
  outside.remove();
});

const byTestId = (id: string) => container.querySelector<HTMLElement>(`[data-testid="${id}"]`);
const press = (target: Element) =>
  act(() => {
    target.dispatchEvent(new PointerEvent('pointerdown', { bubbles: true }));
  });
const escape = (target: Element) =>
  act(() => {
    target.dispatchEvent(
      new KeyboardEvent('keydown', { key: 'Escape', bubbles: true, cancelable: true }),
    );
  });

function openPopover(handlesEscape = false) {
  act(() => root.render(<Popover handlesEscape={handlesEscape} />));
  act(() => byTestId('opener')!.click());
  expect(byTestId('panel')).not.toBeNull();
}

describe('useDismiss', () => {
  it('stays open on a press inside and closes on a press outside', () => {
    openPopover();
    press(byTestId('field')!);
    expect(byTestId('panel')).not.toBeNull();

    press(outside);
    expect(byTestId('panel')).toBeNull();
  });

  it('closes on Escape and gives focus back to the button that opened it', () => {
    openPopover();
    byTestId('field')!.focus();
    escape(byTestId('field')!);

    expect(byTestId('panel')).toBeNull();
    expect(document.activeElement).toBe(byTestId('opener'));
  });

  it('leaves an Escape that a control inside already handled to that control', () => {
    openPopover(true);
    escape(byTestId('field')!);
    expect(byTestId('panel')).not.toBeNull();
  });

  it('listens only while open: a press outside after closing changes nothing', () => {
    openPopover();
    act(() => byTestId('opener')!.click());
    expect(byTestId('panel')).toBeNull();
    press(outside);
    act(() => byTestId('opener')!.click());
    expect(byTestId('panel')).not.toBeNull();
  });
});
