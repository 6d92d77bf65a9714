import { useCallback, useEffect, useLayoutEffect, useRef, useState } from 'react';
import type { Model } from '../api/types';
import { EndFollower, isUpKey } from '../lib/autoScroll';
import type { Choices, SiblingPosition } from '../lib/thread';
import type { ViewMessage } from '../state/chat';
import { CompareGroup, type CompareActions, type CompareGroupData } from './CompareView';
import { ArrowDownIcon } from './icons';
import { InlineError, MessageView, type MessageActions } from './MessageView';

interface ChatViewProps {
  conversationKey: string;
  messages: ViewMessage[];
  /** Where each shown message with siblings sits among them (the ‹ 2/3 › switch). */
  siblings: Map<string, SiblingPosition>;
  /** Null in a temporary chat: its messages can only be copied. */
  actions: MessageActions | null;
  /** An answer is being written: no message action may start another. */
  busy: boolean;
  models: Model[];
  loading: boolean;
  loadError: string | null;
  sendError: string | null;
  /** A message to scroll to and highlight (opened from a search result). */
  focusId?: string | null;
  /** The conversation's comparisons, by id: an answer of one shows the whole group, side by side. */
  groups?: ReadonlyMap<string, CompareGroupData>;
  compareActions?: CompareActions;
  /** The versions picked at each fork: a comparison marks the picked answer. */
  choices?: Choices;
}

const NO_GROUPS: ReadonlyMap<string, CompareGroupData> = new Map();
const NO_CHOICES: Choices = {};

/**
 * A long conversation opens with its last WINDOW messages rendered; earlier ones are added
 * STEP at a time as the reader scrolls up towards them (the browser's scroll anchoring keeps
 * what is on screen in place). Each message also has `content-visibility: auto`, so the
 * browser skips laying out and painting those far from the screen.
 */
export const WINDOW = 40;
export const STEP = 40;
/** How far above the first rendered message the reader may be before earlier ones are added. */
const PRELOAD_MARGIN = '1500px 0px 0px 0px';

/** The first message rendered: WINDOW from the end once the conversation has loaded. */
function useWindowStart(conversationKey: string, count: number, mustShow: number) {
  const [state, setState] = useState<{ key: string; from: number | null }>({
    key: conversationKey,
    from: null,
  });
  let from = state.key === conversationKey ? state.from : null;
  if (from === null && count > 0) from = Math.max(0, count - WINDOW);
  // A message that must be seen (a search result's) is rendered, with a few before it.
  if (from !== null && mustShow >= 0 && mustShow < from) from = Math.max(0, mustShow - 5);
  if (state.key !== conversationKey || state.from !== from) {
    // Adjusting state while rendering (React's documented pattern): no extra commit.
    setState({ key: conversationKey, from });
  }
  const start = Math.min(from ?? 0, Math.max(0, count - WINDOW));
  const showEarlier = useCallback(
    () => setState({ key: conversationKey, from: Math.max(0, start - STEP) }),
    [conversationKey, start],
  );
  return { start, showEarlier };
}

/** The scrolling list of the active branch, following its end while it grows. */
export function ChatView({
  conversationKey,
  messages,
  siblings,
  actions,
  busy,
  models,
  loading,
  loadError,
  sendError,
  focusId = null,
  groups = NO_GROUPS,
  compareActions,
  choices = NO_CHOICES,
}: ChatViewProps) {
  const scroller = useRef<HTMLDivElement>(null);
  const column = useRef<HTMLDivElement>(null);
  const top = useRef<HTMLDivElement>(null);
  const follower = useRef(new EndFollower());
  // Whether the view follows the end, for the "follow the answer" button; a different
  // conversation starts following.
  const [pinState, setPinState] = useState({ key: conversationKey, pinned: true });
  const pinned = pinState.key === conversationKey ? pinState.pinned : true;
  const setPinned = useCallback(
    (value: boolean) => {
      setPinState((prev) =>
        prev.key === conversationKey && prev.pinned === value
          ? prev
          : { key: conversationKey, pinned: value },
      );
    },
    [conversationKey],
  );
  const focusIndex = focusId === null ? -1 : messages.findIndex((m) => m.id === focusId);
  const { start, showEarlier } = useWindowStart(conversationKey, messages.length, focusIndex);

  useEffect(() => {
    const el = scroller.current;
    if (!el) return;
    const f = follower.current;
    const onScroll = () => setPinned(f.scrolled(el));
    const onWheel = (event: WheelEvent) => {
      if (event.deltaY < 0) {
        f.userMovedUp();
        setPinned(false);
      }
    };
    const onKey = (event: KeyboardEvent) => {
      if (isUpKey(event.key)) {
        f.userMovedUp();
        setPinned(false);
      }
    };
    el.addEventListener('scroll', onScroll, { passive: true });
    el.addEventListener('wheel', onWheel, { passive: true });
    el.addEventListener('keydown', onKey);
    // Content that changes size after it rendered (math typeset late, messages laid out as
    // they come near the screen) keeps a following view at the end.
    const observer =
      typeof ResizeObserver === 'undefined' ? null : new ResizeObserver(() => f.follow(el));
    if (column.current) observer?.observe(column.current);
    return () => {
      el.removeEventListener('scroll', onScroll);
      el.removeEventListener('wheel', onWheel);
      el.removeEventListener('keydown', onKey);
      observer?.disconnect();
    };
  }, [setPinned]);

  // A different conversation starts at its end.
  useLayoutEffect(() => {
    follower.current.reset();
  }, [conversationKey]);

  useLayoutEffect(() => {
    const el = scroller.current;
    if (el) follower.current.follow(el);
  }, [messages, sendError, conversationKey]);

  // Earlier messages are added before the reader reaches the first one rendered.
  useEffect(() => {
    const el = top.current;
    const root = scroller.current;
    if (!el || !root || start === 0 || typeof IntersectionObserver === 'undefined') return;
    const observer = new IntersectionObserver(
      (entries) => {
        if (entries.some((e) => e.isIntersecting)) showEarlier();
      },
      { root, rootMargin: PRELOAD_MARGIN },
    );
    observer.observe(el);
    return () => observer.disconnect();
  }, [start, showEarlier]);

  // A message opened from a search result: rendered, scrolled to the middle, and the view no
  // longer follows the end.
  const focusShown = focusId !== null && messages.some((m) => m.id === focusId);
  useLayoutEffect(() => {
    const el = scroller.current;
    if (!el || !focusShown || focusId === null) return;
    const target = el.querySelector(`[data-message-id="${CSS.escape(focusId)}"]`);
    if (!target) return;
    follower.current.userMovedUp();
    setPinned(false);
    target.scrollIntoView({ block: 'center' });
  }, [focusId, focusShown, start, setPinned]);

  const empty = messages.length === 0 && !loading && !loadError;
  const lastIsAssistant = messages.at(-1)?.role === 'assistant';
  const streaming = messages.at(-1)?.status === 'streaming';
  const shown = start === 0 ? messages : messages.slice(start);

  function toEnd() {
    const el = scroller.current;
    if (!el) return;
    follower.current.reset();
    follower.current.follow(el);
    setPinned(true);
  }

  return (
    <div className="chat-scroll" ref={scroller} data-testid="chat-scroll" tabIndex={-1}>
      <div className="chat-column" ref={column}>
        {start > 0 && (
          <div ref={top} className="chat-earlier">
            <button
              type="button"
              className="button small ghost"
              data-testid="show-earlier"
              onClick={showEarlier}
            >
              Show earlier messages ({start})
            </button>
          </div>
        )}
        {empty && (
          <div className="empty-state">
            <h2>How can I help?</h2>
            <p>Ask anything. Answers stream in as they are written.</p>
          </div>
        )}
        {loading && messages.length === 0 && (
          <div className="chat-loading" role="status" data-testid="chat-loading">
            <span className="spinner" aria-hidden="true" />
            Loading the conversation…
          </div>
        )}
        {loadError && <InlineError message={loadError} />}
        {shown.map((m) => {
          const group = m.comparisonId === null ? undefined : groups.get(m.comparisonId);
          if (group && compareActions && actions && m.parentId !== null) {
            return (
              <CompareGroup
                key={`compare-${group.comparison.id}`}
                group={group}
                currentId={m.id}
                siblings={siblings.get(m.id)}
                picked={m.parentId in choices || group.comparison.chosenId !== null}
                models={models}
                actions={actions}
                compareActions={compareActions}
                busy={busy}
                focusId={focusId}
              />
            );
          }
          return (
            <MessageView
              key={m.id}
              message={m}
              models={models}
              siblings={siblings.get(m.id)}
              actions={actions}
              busy={busy}
              focused={m.id === focusId}
            />
          );
        })}
        {sendError && (
          <div className={lastIsAssistant ? 'send-error' : 'send-error after-user'}>
            <InlineError message={sendError} />
          </div>
        )}
      </div>
      {!pinned && streaming && (
        <div className="jump-to-end-wrap">
          <button
            type="button"
            className="jump-to-end"
            data-testid="jump-to-end"
            aria-label="Follow the answer"
            title="Follow the answer"
            onClick={toEnd}
          >
            <ArrowDownIcon width={18} height={18} />
          </button>
        </div>
      )}
    </div>
  );
}
