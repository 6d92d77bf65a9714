import { useEffect, useLayoutEffect, useRef } from 'react';
import type { Model } from '../api/types';
import type { ViewMessage } from '../state/chat';
import { InlineError, MessageView } from './MessageView';

interface ChatViewProps {
  conversationKey: string;
  messages: ViewMessage[];
  models: Model[];
  loading: boolean;
  loadError: string | null;
  sendError: string | null;
}

/** The scrolling list of the active branch, kept pinned to the bottom while it grows. */
export function ChatView({
  conversationKey,
  messages,
  models,
  loading,
  loadError,
  sendError,
}: ChatViewProps) {
  const scroller = useRef<HTMLDivElement>(null);
  const pinned = useRef(true);

  useEffect(() => {
    const el = scroller.current;
    if (!el) return;
    const onScroll = () => {
      pinned.current = el.scrollHeight - el.scrollTop - el.clientHeight < 80;
    };
    el.addEventListener('scroll', onScroll, { passive: true });
    return () => el.removeEventListener('scroll', onScroll);
  }, []);

  // A different conversation starts at its end.
  useLayoutEffect(() => {
    pinned.current = true;
  }, [conversationKey]);

  useLayoutEffect(() => {
    const el = scroller.current;
    if (el && pinned.current) el.scrollTop = el.scrollHeight;
  }, [messages, sendError, conversationKey]);

  const empty = messages.length === 0 && !loading && !loadError;
  const lastIsAssistant = messages.at(-1)?.role === 'assistant';

  return (
    <div className="chat-scroll" ref={scroller}>
      <div className="chat-column">
        {empty && (
          <div className="empty-state">
            <h2>How can I help?</h2>
            <p>Ask anything. Answers stream in as they are written.</p>
          </div>
        )}
        {loading && messages.length === 0 && <p className="chat-loading">Loading…</p>}
        {loadError && <InlineError message={loadError} />}
        {messages.map((m) => (
          <MessageView key={m.id} message={m} models={models} />
        ))}
        {sendError && (
          <div className={lastIsAssistant ? 'send-error' : 'send-error after-user'}>
            <InlineError message={sendError} />
          </div>
        )}
      </div>
    </div>
  );
}
