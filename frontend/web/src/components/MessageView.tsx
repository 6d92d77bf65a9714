import { memo, useMemo } from 'react';
import type { Model } from '../api/types';
import { formatCost, formatTokens } from '../lib/format';
import { renderMarkdown } from '../lib/markdown';
import type { ViewMessage } from '../state/chat';
import { AlertIcon } from './icons';

const STATUS_LABEL: Record<string, string> = {
  stopped: 'Stopped',
  error: 'Error',
  interrupted: 'Interrupted',
};

function Markdown({ source }: { source: string }) {
  const html = useMemo(() => renderMarkdown(source), [source]);
  // Safe: renderMarkdown escapes raw HTML and sanitizes the result with DOMPurify.
  return <div className="markdown" dangerouslySetInnerHTML={{ __html: html }} />;
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
  const prompt = generation?.promptTokens ?? message.usage?.promptTokens;
  const completion = generation?.completionTokens ?? message.usage?.completionTokens;
  const reasoning = generation?.reasoningTokens ?? message.usage?.reasoningTokens;
  const cost = formatCost(generation?.cost ?? message.usage?.cost ?? null);
  const parts: string[] = [];
  if (modelName) parts.push(modelName);
  if (typeof prompt === 'number' && typeof completion === 'number') {
    let tokens = `${formatTokens(prompt)} in · ${formatTokens(completion)} out`;
    if (reasoning) tokens += ` (${formatTokens(reasoning)} reasoning)`;
    parts.push(tokens);
  }
  if (cost) parts.push(cost);
  const statusLabel = STATUS_LABEL[message.status];
  if (parts.length === 0 && !statusLabel) return null;
  return (
    <div className="message-meta">
      {statusLabel && (
        <span className={`status-badge status-${message.status}`}>{statusLabel}</span>
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
}

export const MessageView = memo(function MessageView({ message, models }: MessageViewProps) {
  if (message.role === 'system') return null;
  if (message.role === 'user') {
    return (
      <div className="message message-user-row">
        <div
          className={`message-user${message.pending ? ' pending' : ''}`}
          data-testid="message-user"
        >
          {message.content}
        </div>
      </div>
    );
  }

  const modelId = message.generation?.model ?? message.model;
  const modelName = modelId ? (models.find((m) => m.id === modelId)?.name ?? modelId) : null;
  const streaming = message.status === 'streaming';
  const reasoning = message.reasoning ?? '';

  return (
    <div
      className="message message-assistant"
      data-testid="message-assistant"
      data-status={message.status}
      aria-busy={streaming}
    >
      {reasoning !== '' && (
        <details className="reasoning">
          <summary>{streaming && message.content === '' ? 'Thinking…' : 'Reasoning'}</summary>
          <div className="reasoning-body">{reasoning}</div>
        </details>
      )}
      {message.content !== '' && <Markdown source={message.content} />}
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
