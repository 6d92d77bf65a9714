import { memo, useLayoutEffect, useMemo, useRef } from 'react';
import type { Model } from '../api/types';
import { enhance } from '../lib/enhance';
import { formatCost, formatTokens } from '../lib/format';
import { LiveMarkdown } from '../lib/liveMarkdown';
import { renderMarkdown } from '../lib/markdown';
import type { ViewMessage } from '../state/chat';
import { AlertIcon } from './icons';

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

function AssistantMeta({ message, modelName }: { message: ViewMessage; modelName: string | null }) {
  const generation = message.generation;
  const provider = generation?.provider ?? message.servedBy?.provider ?? null;
  const prompt = generation?.promptTokens ?? message.usage?.promptTokens;
  const completion = generation?.completionTokens ?? message.usage?.completionTokens;
  const reasoning = generation?.reasoningTokens ?? message.usage?.reasoningTokens;
  const cost = formatCost(generation?.cost ?? message.usage?.cost ?? null);
  const parts: string[] = [];
  if (typeof prompt === 'number' && typeof completion === 'number') {
    let tokens = `${formatTokens(prompt)} in · ${formatTokens(completion)} out`;
    if (reasoning) tokens += ` (${formatTokens(reasoning)} reasoning)`;
    parts.push(tokens);
  }
  if (cost) parts.push(cost);
  const statusLabel = STATUS_LABEL[message.status];
  if (parts.length === 0 && !statusLabel && !provider) return null;
  return (
    <div className="message-meta">
      {statusLabel && (
        <span className={`status-badge status-${message.status}`}>{statusLabel}</span>
      )}
      {modelName && <span className="meta-part">{modelName}</span>}
      {provider && (
        // A class, not a data-testid: an answer's element carries no data-* attribute (the
        // rendering test checks that of everything in it, model output included).
        <span className="meta-part meta-provider" title="The provider that served this answer">
          via {provider}
        </span>
      )}
      {parts.map((part) => (
        <span key={part} className="meta-part">
          {part}
        </span>
      ))}
    </div>
  );
}

interface MessageViewProps {
  message: ViewMessage;
  models: Model[];
  /** Opened from a search result: highlighted. */
  focused?: boolean;
}

export const MessageView = memo(function MessageView({
  message,
  models,
  focused = false,
}: MessageViewProps) {
  if (message.role === 'system') return null;
  const focusClass = focused ? ' focused' : '';
  if (message.role === 'user') {
    return (
      <div
        className={`message message-user-row${focusClass}`}
        data-message-id={message.id}
        data-focused={focused || undefined}
      >
        <div
          className={`message-user${message.pending ? ' pending' : ''}`}
          data-testid="message-user"
        >
          {message.content}
        </div>
      </div>
    );
  }

  const modelId = message.generation?.model ?? message.servedBy?.model ?? message.model;
  const modelName = modelId ? (models.find((m) => m.id === modelId)?.name ?? modelId) : null;
  const streaming = message.status === 'streaming';
  const reasoning = message.reasoning ?? '';

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
        <details className="reasoning">
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
      {message.error ? (
        <InlineError message={message.error} />
      ) : (
        message.status === 'error' && <InlineError message="The answer failed." />
      )}
      {!streaming && <AssistantMeta message={message} modelName={modelName} />}
    </div>
  );
});
