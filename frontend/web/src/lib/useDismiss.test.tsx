import { act, useRef, useState, type KeyboardEvent } from 'react';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { domPerTest } from '../test-support/dom';
import { useDismiss } from './useDismiss';

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

const dom = domPerTest();
let outside: HTMLButtonElement;

beforeEach(() => {
  outside = document.createElement('button');
  document.body.append(outside);
});
afterEach(() => outside.remove());

const byTestId = dom.$;
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
  act(() => dom.root.render(<Popover handlesEscape={handlesEscape} />));
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
