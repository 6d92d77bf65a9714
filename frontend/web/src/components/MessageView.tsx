import { memo, useEffect, useLayoutEffect, useMemo, useRef, useState } from 'react';
import type { Model, Source } from '../api/types';
import { enhance } from '../lib/enhance';
import { formatCost, formatTokens } from '../lib/format';
import { LiveMarkdown } from '../lib/liveMarkdown';
import { renderMarkdown } from '../lib/markdown';
import type { SiblingPosition } from '../lib/thread';
import type { ViewMessage } from '../state/chat';
import { AlertIcon } from './icons';
import { MessageAttachments } from './MessageAttachments';

const STATUS_LABEL: Record<string, string> = {
  stopped: 'Stopped',
  error: 'Error',
  interrupted: 'Interrupted',
};

/**
 * An answer's Markdown. A finished answer is rendered whole; one still streaming is rendered
 * block by block (lib/liveMarkdown.ts), so each update costs the same however long it is. Both
 * go through renderMarkdown, which escapes raw HTML and sanitizes the result with DOMPurify;
 * code blocks and math are then enhanced in place (lib/enhance.ts) before the browser paints.
 */
function Markdown({ source, live }: { source: string; live: boolean }) {
  const ref = useRef<HTMLDivElement>(null);
  const view = useRef<LiveMarkdown | null>(null);
  const html = useMemo(() => (live ? null : renderMarkdown(source)), [source, live]);
  useLayoutEffect(() => {
    const el = ref.current;
    if (!live || !el) {
      view.current = null;
      return;
    }
    view.current ??= new LiveMarkdown(el, renderMarkdown, enhance);
    view.current.update(source);
  }, [source, live]);
  useLayoutEffect(() => {
    const el = ref.current;
    if (html !== null && el) enhance(el);
  }, [html]);
  // While live, React leaves the element's children to LiveMarkdown.
  return (
    <div
      className="markdown"
      ref={ref}
      dangerouslySetInnerHTML={html === null ? undefined : { __html: html }}
    />
  );
}

export function InlineError({ message }: { message: string }) {
  return (
    <div className="message-error" data-testid="message-error" role="alert">
      <AlertIcon width={16} height={16} />
      <span>{message}</span>
    </div>
  );
}

/** A duration: "85 ms", "2.4 s", "12 s". */
export function seconds(ms: number): string {
  if (ms < 1000) return `${Math.round(ms)} ms`;
  return ms < 10_000 ? `${(ms / 1000).toFixed(1)} s` : `${Math.round(ms / 1000)} s`;
}

/** Only absolute http(s) links are ever rendered (the backend keeps no others either). */
function safeHref(url: string): string | null {
  try {
    const parsed = new URL(url);
    return parsed.protocol === 'https:' || parsed.protocol === 'http:' ? parsed.href : null;
  } catch {
    return null;
  }
}

/** The web pages an answer cites (web search results), as a list of links. */
function Sources({ sources }: { sources: Source[] }) {
  const links = sources.flatMap((source) => {
    const href = safeHref(source.url);
    return href === null ? [] : [{ href, title: source.title, host: new URL(href).host }];
  });
  if (links.length === 0) return null;
  return (
    <div className="sources" data-testid="sources">
      <span className="sources-label">Sources</span>
      <ol>
        {links.map((link) => (
          <li key={link.href}>
            <a href={link.href} target="_blank" rel="noopener noreferrer nofollow">
              {link.title ?? link.host}
            </a>{' '}
            <span className="source-host">{link.host}</span>
          </li>
        ))}
      </ol>
    </div>
  );
}

function AssistantMeta({ message, modelName }: { message: ViewMessage; modelName: string | null }) {
  const generation = message.generation;
  const provider = generation?.provider ?? message.servedBy?.provider ?? null;
  const prompt = generation?.promptTokens ?? message.usage?.promptTokens;
  const completion = generation?.completionTokens ?? message.usage?.completionTokens;
  const reasoning = generation?.reasoningTokens ?? message.usage?.reasoningTokens;
  const cost = formatCost(generation?.cost ?? message.usage?.cost ?? null);
  const firstToken = generation?.timeToFirstTokenMs ?? message.servedBy?.timeToFirstTokenMs ?? null;
  const duration = generation?.durationMs ?? message.servedBy?.durationMs ?? null;
  // Each part is marked by a class (meta-model, meta-provider…), not a data-* attribute: the
  // rendering test allows no data-* in an answer but the app's own test ids.
  const parts: Array<{ key: string; text: string; title?: string }> = [];
  if (modelName) parts.push({ key: 'model', text: modelName });
  if (provider) {
    parts.push({
      key: 'provider',
      text: `via ${provider}`,
      title: 'The provider that served this answer',
    });
  }
  if (typeof prompt === 'number' && typeof completion === 'number') {
    let tokens = `${formatTokens(prompt)} in · ${formatTokens(completion)} out`;
    if (reasoning) tokens += ` (${formatTokens(reasoning)} reasoning)`;
    parts.push({ key: 'tokens', text: tokens });
  }
  if (cost) parts.push({ key: 'cost', text: cost });
  if (firstToken !== null) {
    parts.push({ key: 'ttft', text: `${seconds(firstToken)} to first token` });
  }
  // Output speed: tokens written per second once the first one came.
  if (
    typeof completion === 'number' &&
    completion > 0 &&
    firstToken !== null &&
    duration !== null
  ) {
    const writing = duration - firstToken;
    if (writing > 0) {
      parts.push({
        key: 'speed',
        text: `${(completion / (writing / 1000)).toFixed(completion / (writing / 1000) < 10 ? 1 : 0)} tok/s`,
        title: 'Output tokens per second, after the first token',
      });
    }
  }
  if (generation?.finishReason === 'length') {
    parts.push({ key: 'length', text: 'Cut at the token limit' });
  }
  const statusLabel = STATUS_LABEL[message.status];
  if (parts.length === 0 && !statusLabel) return null;
  return (
    <div className="message-meta" data-testid="message-stats">
      {statusLabel && (
        <span className={`status-badge status-${message.status}`}>{statusLabel}</span>
      )}
      {parts.map((part) => (
        <span key={part.key} className={`meta-part meta-${part.key}`} title={part.title}>
          {part.text}
        </span>
      ))}
    </div>
  );
}

/** What a message's buttons do (Workspace): stable callbacks, so messages are not re-rendered. */
export interface MessageActions {
  /** Sends `content` as a new version of the user message `message` (its sibling). */
  edit: (message: ViewMessage, content: string) => void;
  /** Answers the question of the answer `message` again, with `model` (null: the answer's own). */
  regenerate: (message: ViewMessage, model: string | null) => void;
  continueAnswer: (message: ViewMessage) => void;
  remove: (message: ViewMessage) => void;
  /** Shows `id`, a sibling at the fork `fork`, and the branch below it. */
  choose: (fork: string, id: string) => void;
}

export function SiblingNav({
  position,
  choose,
}: {
  position: SiblingPosition;
  choose: MessageActions['choose'];
}) {
  const { previous, next, fork } = position;
  return (
    <span className="sibling-nav" data-testid="sibling-nav">
      <button
        type="button"
        className="action-button"
        aria-label="Previous version"
        disabled={previous === null}
        onClick={() => previous !== null && choose(fork, previous)}
      >
        ‹
      </button>
      <span className="sibling-count" data-testid="sibling-count">
        {position.index + 1}/{position.count}
      </span>
      <button
        type="button"
        className="action-button"
        aria-label="Next version"
        disabled={next === null}
        onClick={() => next !== null && choose(fork, next)}
      >
        ›
      </button>
    </span>
  );
}

function CopyButton({ text }: { text: string }) {
  const [copied, setCopied] = useState<'yes' | 'failed' | null>(null);
  useEffect(() => {
    if (copied === null) return;
    const timer = setTimeout(() => setCopied(null), 2000);
    return () => clearTimeout(timer);
  }, [copied]);
  return (
    <button
      type="button"
      className="action-button"
      data-testid="copy-message"
      onClick={() => {
        navigator.clipboard.writeText(text).then(
          () => setCopied('yes'),
          () => setCopied('failed'),
        );
      }}
    >
      {copied === 'yes' ? 'Copied' : copied === 'failed' ? 'Copy failed' : 'Copy'}
    </button>
  );
}

/**
 * "Regenerate with another model": the list of models is rendered only once asked for (a
 * catalog has hundreds, and every answer has this button).
 */
function OtherModel({ models, onPick }: { models: Model[]; onPick: (model: string) => void }) {
  const [open, setOpen] = useState(false);
  if (!open) {
    return (
      <button
        type="button"
        className="action-button"
        data-testid="regenerate-other"
        onClick={() => setOpen(true)}
      >
        Other model…
      </button>
    );
  }
  return (
    <select
      className="action-select"
      aria-label="Regenerate with another model"
      data-testid="regenerate-model"
      value=""
      autoFocus
      onBlur={() => setOpen(false)}
      onChange={(event) => {
        setOpen(false);
        if (event.target.value !== '') onPick(event.target.value);
      }}
    >
      <option value="">Regenerate with…</option>
      {models.map((m) => (
        <option key={m.id} value={m.id}>
          {m.name}
        </option>
      ))}
    </select>
  );
}

function DeleteButton({ onDelete }: { onDelete: () => void }) {
  const [confirming, setConfirming] = useState(false);
  if (!confirming) {
    return (
      <button
        type="button"
        className="action-button"
        data-testid="delete-message"
        onClick={() => setConfirming(true)}
      >
        Delete
      </button>
    );
  }
  return (
    <span className="confirm-inline" role="group" aria-label="Delete this message?">
      <span>Delete it and the replies below it?</span>
      <button
        type="button"
        className="action-button danger"
        data-testid="confirm-delete-message"
        onClick={() => {
          setConfirming(false);
          onDelete();
        }}
      >
        Delete
      </button>
      <button type="button" className="action-button" onClick={() => setConfirming(false)}>
        Cancel
      </button>
    </span>
  );
}

function UserMessage({ message, siblings, actions, busy, focused = false }: MessageViewProps) {
  const [editing, setEditing] = useState<string | null>(null);
  if (editing !== null) {
    return (
      <div
        className={`message message-user-row${focused ? ' focused' : ''}`}
        data-message-id={message.id}
        data-focused={focused || undefined}
      >
        {/* The edited question keeps its files (sent again as copies). */}
        {message.attachments.length > 0 && <MessageAttachments attachments={message.attachments} />}
        <form
          className="message-edit"
          onSubmit={(event) => {
            event.preventDefault();
            if ((editing.trim() === '' && message.attachments.length === 0) || busy || !actions) {
              return;
            }
            setEditing(null);
            actions.edit(message, editing);
          }}
        >
          <textarea
            aria-label="Edit the message"
            data-testid="edit-message-input"
            value={editing}
            rows={Math.min(10, editing.split('\n').length + 1)}
            onChange={(event) => setEditing(event.target.value)}
          />
          <div className="message-edit-buttons">
            <button type="button" className="action-button" onClick={() => setEditing(null)}>
              Cancel
            </button>
            <button
              type="submit"
              className="action-button primary"
              data-testid="edit-message-send"
              disabled={busy || (editing.trim() === '' && message.attachments.length === 0)}
            >
              Send
            </button>
          </div>
        </form>
      </div>
    );
  }
  return (
    <div
      className={`message message-user-row${focused ? ' focused' : ''}`}
      data-message-id={message.id}
      data-focused={focused || undefined}
    >
      {message.attachments.length > 0 && <MessageAttachments attachments={message.attachments} />}
      {(message.content !== '' || message.attachments.length === 0) && (
        <div
          className={`message-user${message.pending ? ' pending' : ''}`}
          data-testid="message-user"
        >
          {message.content}
        </div>
      )}
      {!message.pending && (
        <div className="message-actions user-actions" data-testid="message-actions">
          {siblings && actions && <SiblingNav position={siblings} choose={actions.choose} />}
          <CopyButton text={message.content} />
          {!busy && actions && (
            <>
              <button
                type="button"
                className="action-button"
                data-testid="edit-message"
                onClick={() => setEditing(message.content)}
              >
                Edit
              </button>
              <DeleteButton onDelete={() => actions.remove(message)} />
            </>
          )}
        </div>
      )}
    </div>
  );
}

interface MessageViewProps {
  message: ViewMessage;
  models: Model[];
  /** Its place among its siblings, when it has some. */
  siblings: SiblingPosition | undefined;
  /**
   * Null in a temporary chat: nothing of it is stored to edit, answer again, continue or
   * delete, so its messages can only be copied.
   */
  actions: MessageActions | null;
  /** An answer is being written in this conversation: nothing new can start. */
  busy: boolean;
  /** Opened from a search result: highlighted. */
  focused?: boolean;
}

export const MessageView = memo(function MessageView(props: MessageViewProps) {
  const { message, models, siblings, actions, busy, focused = false } = props;
  if (message.role === 'system') return null;
  if (message.role === 'user') return <UserMessage {...props} />;
  const focusClass = focused ? ' focused' : '';

  const modelId = message.generation?.model ?? message.servedBy?.model ?? message.model;
  const modelName = modelId ? (models.find((m) => m.id === modelId)?.name ?? modelId) : null;
  const streaming = message.status === 'streaming';
  const reasoning = message.reasoning ?? '';
  const canContinue =
    message.generation?.finishReason === 'length' && message.status === 'complete';

  return (
    <div
      className={`message message-assistant${focusClass}`}
      data-testid="message-assistant"
      data-message-id={message.id}
      data-focused={focused || undefined}
      data-status={message.status}
      aria-busy={streaming}
    >
      {reasoning !== '' && (
        <details className="reasoning" data-testid="reasoning">
          <summary>{streaming && message.content === '' ? 'Thinking…' : 'Reasoning'}</summary>
          <div className="reasoning-body">{reasoning}</div>
        </details>
      )}
      {message.content !== '' && <Markdown source={message.content} live={streaming} />}
      {streaming && message.content === '' && reasoning === '' && (
        <div className="typing" aria-label="Waiting for the answer">
          <span />
          <span />
          <span />
        </div>
      )}
      {message.sources && message.sources.length > 0 && <Sources sources={message.sources} />}
      {message.error ? (
        <InlineError message={message.error} />
      ) : (
        message.status === 'error' && <InlineError message="The answer failed." />
      )}
      {!streaming && <AssistantMeta message={message} modelName={modelName} />}
      {!streaming && (
        <div className="message-actions" data-testid="message-actions">
          {siblings && actions && <SiblingNav position={siblings} choose={actions.choose} />}
          <CopyButton text={message.content} />
          {!busy && actions && (
            <>
              {canContinue && (
                <button
                  type="button"
                  className="action-button primary"
                  data-testid="continue-message"
                  onClick={() => actions.continueAnswer(message)}
                >
                  Continue
                </button>
              )}
              <button
                type="button"
                className="action-button"
                data-testid="regenerate-message"
                onClick={() => actions.regenerate(message, null)}
              >
                Regenerate
              </button>
              <OtherModel models={models} onPick={(model) => actions.regenerate(message, model)} />
              <DeleteButton onDelete={() => actions.remove(message)} />
            </>
          )}
        </div>
      )}
    </div>
  );
});
