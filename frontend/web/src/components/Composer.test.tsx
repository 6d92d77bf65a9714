import { act } from 'react';
import { describe, expect, it, vi } from 'vitest';
import type { DraftAttachment } from '../state/attachments';
import { Composer } from './Composer';
import { domPerTest } from '../test-support/dom';

const dom = domPerTest();

function draft(partial: Partial<DraftAttachment>): DraftAttachment {
  return {
    localId: `a-${Math.random()}`,
    name: 'photo.png',
    size: 2048,
    looksLikeImage: true,
    preview: null,
    status: 'ready',
    progress: 1,
    error: null,
    attachment: null,
    ...partial,
  };
}

function show(props: {
  value?: string;
  attachments?: DraftAttachment[];
  warning?: string | null;
  onAttach?: (files: File[]) => void;
  onRemove?: (a: DraftAttachment) => void;
  onSubmit?: () => void;
}) {
  act(() => {
    dom.root.render(
      <Composer
        value={props.value ?? ''}
        onChange={() => undefined}
        onSubmit={props.onSubmit ?? (() => undefined)}
        onStop={() => undefined}
        streaming={false}
        stopping={false}
        sending={false}
        queued={null}
        onEditQueued={() => undefined}
        onCancelQueued={() => undefined}
        attachments={props.attachments ?? []}
        onAttach={props.onAttach ?? (() => undefined)}
        onRemoveAttachment={props.onRemove ?? (() => undefined)}
        attachmentWarning={props.warning ?? null}
      />,
    );
  });
}

const sendButton = () =>
  dom.container.querySelector<HTMLButtonElement>('[data-testid="send-button"]')!;

describe('Composer attachments', () => {
  it('sends files alone once uploaded, not while one still uploads', () => {
    show({ attachments: [draft({ status: 'uploading', progress: 0.4 })] });
    expect(sendButton().disabled).toBe(true);
    expect(dom.container.querySelector('[data-testid="attachment-chip"]')?.textContent).toContain(
      'Uploading… 40 %',
    );
    expect(dom.container.querySelector('progress')?.getAttribute('aria-label')).toBe(
      'Uploading photo.png',
    );
    show({ attachments: [draft({})] });
    expect(sendButton().disabled).toBe(false);
    expect(dom.container.querySelector('[data-testid="attachment-chip"]')?.textContent).toContain(
      '2 KB',
    );
  });

  it('shows why a file was refused, and a warning that blocks sending', () => {
    show({
      value: 'hello',
      attachments: [draft({ status: 'failed', error: 'The file is too large.' })],
      warning: 'Echo does not accept images.',
    });
    expect(dom.container.querySelector('[data-testid="attachment-error"]')?.textContent).toBe(
      'The file is too large.',
    );
    expect(dom.container.querySelector('[data-testid="attachment-warning"]')?.textContent).toBe(
      'Echo does not accept images.',
    );
    expect(sendButton().disabled).toBe(true);
  });

  it('removes a file with its button', () => {
    const onRemove = vi.fn();
    const file = draft({ name: 'notes.md', looksLikeImage: false });
    show({ attachments: [file], onRemove });
    act(() =>
      dom.container.querySelector<HTMLButtonElement>('[aria-label="Remove notes.md"]')?.click(),
    );
    expect(onRemove).toHaveBeenCalledWith(file);
  });

  it('attaches pasted files and chosen files', () => {
    const onAttach = vi.fn();
    show({ onAttach });
    const image = new File([new Uint8Array([137, 80, 78, 71])], 'image.png', { type: 'image/png' });
    const textarea = dom.container.querySelector('textarea')!;
    const paste = new Event('paste', { bubbles: true, cancelable: true });
    Object.defineProperty(paste, 'clipboardData', { value: { files: [image] } });
    act(() => {
      textarea.dispatchEvent(paste);
    });
    expect(onAttach).toHaveBeenCalledWith([image]);
    expect(paste.defaultPrevented).toBe(true);

    const input = dom.container.querySelector<HTMLInputElement>('[data-testid="attach-input"]')!;
    Object.defineProperty(input, 'files', { value: [image], configurable: true });
    act(() => {
      input.dispatchEvent(new Event('change', { bubbles: true }));
    });
    expect(onAttach).toHaveBeenCalledTimes(2);
  });
});
