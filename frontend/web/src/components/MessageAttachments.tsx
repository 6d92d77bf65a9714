import { useEffect, useRef, useState } from 'react';
import { createPortal } from 'react-dom';
import { attachmentUrl } from '../api/client';
import type { Attachment } from '../api/types';
import { fileSize } from '../lib/format';
import { FileIcon } from './icons';

/**
 * The files a question carried: images as thumbnails (opened larger in a dialog), PDFs and text
 * files as chips that download them. Every file comes from the app's own download endpoint (the
 * page's CSP allows images from the app only), for its owner's session.
 */
export function MessageAttachments({ attachments }: { attachments: readonly Attachment[] }) {
  const [open, setOpen] = useState<Attachment | null>(null);
  return (
    <div className="message-attachments" data-testid="message-attachments">
      {attachments.map((a) =>
        a.kind === 'image' ? (
          <button
            key={a.id}
            type="button"
            className="attachment-thumb"
            title={`${a.name} (${fileSize(a.size)})`}
            onClick={() => setOpen(a)}
          >
            <img
              src={attachmentUrl(a.id)}
              alt={a.name}
              loading="lazy"
              data-testid="attachment-thumbnail"
            />
          </button>
        ) : (
          <a
            key={a.id}
            className="attachment-file"
            href={attachmentUrl(a.id)}
            download={a.name}
            data-testid="attachment-file"
            title={`Download ${a.name}`}
          >
            <FileIcon width={16} height={16} />
            <span className="attachment-name">{a.name}</span>
            <span className="attachment-size">{fileSize(a.size)}</span>
          </a>
        ),
      )}
      {open && <ImageDialog attachment={open} onClose={() => setOpen(null)} />}
    </div>
  );
}

/** An image at full size, with its name and a download link. Escape or a click outside closes it. */
function ImageDialog({ attachment, onClose }: { attachment: Attachment; onClose: () => void }) {
  const closeRef = useRef<HTMLButtonElement>(null);
  useEffect(() => {
    const previous = document.activeElement;
    closeRef.current?.focus();
    const onKey = (event: KeyboardEvent) => {
      if (event.key !== 'Escape') return;
      event.preventDefault();
      event.stopPropagation();
      onClose();
    };
    window.addEventListener('keydown', onKey, true);
    return () => {
      window.removeEventListener('keydown', onKey, true);
      if (previous instanceof HTMLElement) previous.focus();
    };
  }, [onClose]);
  // Into the body: a message is its own containing block (content-visibility), which would
  // hold a fixed overlay inside it.
  return createPortal(
    <div className="dialog-scrim" onClick={onClose}>
      <div
        className="dialog image-dialog"
        role="dialog"
        aria-modal="true"
        aria-label={attachment.name}
        data-testid="image-dialog"
        onClick={(e) => e.stopPropagation()}
      >
        <img src={attachmentUrl(attachment.id)} alt={attachment.name} />
        <div className="image-dialog-bar">
          <span className="attachment-name">{attachment.name}</span>
          <a
            className="button small ghost"
            href={attachmentUrl(attachment.id)}
            download={attachment.name}
          >
            Download
          </a>
          <button type="button" className="button small" ref={closeRef} onClick={onClose}>
            Close
          </button>
        </div>
      </div>
    </div>,
    document.body,
  );
}
