import { useCallback, useEffect, useRef, useState } from 'react';
import {
  ApiError,
  api,
  streamAnswer,
  streamCompare,
  streamMessage,
  streamTemporary,
  type StreamHandlers,
} from '../api/client';
import type {
  Attachment,
  Comparison,
  Conversation,
  GenerationParams,
  Message,
  ProviderRouting,
  RegenerateBody,
  StreamEvent,
  TemporaryChatMessage,
  Usage,
} from '../api/types';
import { errorText } from '../lib/errors';
import { onFrame } from '../lib/frame';
import { followGeneration } from './follow';

/** A message as shown: the saved one, plus live usage while it streams. */
export interface ViewMessage extends Message {
  usage?: Usage;
  /**
   * The model and provider that answered and its times, from the stream's `done` (until the
   * saved generation is loaded).
   */
  servedBy?: {
    model: string;
    provider: string | null;
    timeToFirstTokenMs: number | null;
    durationMs: number | null;
  };
  /** Sent by this tab, not yet confirmed by the backend. */
  pending?: boolean;
  /** While it streams: what this tab has counted of it (until the saved figures come). */
  live?: LiveFigures;
}

/**
 * An answer's figures as this tab sees it being written: each piece of text received is about
 * a token (OpenRouter streams one or a few per chunk), timed with `performance.now()`.
 */
export interface LiveFigures {
  /** When this tab started following it. */
  since: number;
  /** Followed from its start (a new answer), so `firstAt - since` is its time to first token. */
  fromStart: boolean;
  /** Pieces of text (answer and reasoning) received. */
  pieces: number;
  firstAt: number | null;
  lastAt: number | null;
}

export interface Thread {
  messages: ViewMessage[];
  /** The conversation's comparisons (a question sent to several models at once). */
  comparisons: Comparison[];
  /** A failure that belongs to no assistant message (e.g. the send was refused). */
  sendError: string | null;
  loading: boolean;
  loadError: string | null;
}

export interface Running {
  generationId: string | null;
  assistantId: string | null;
  stopping: boolean;
  /** A comparison being written: its id and each answer's generation, by message id. */
  comparison?: { id: string; generations: Record<string, string> };
}

const EMPTY_THREAD: Thread = {
  messages: [],
  comparisons: [],
  sendError: null,
  loading: false,
  loadError: null,
};

/**
 * The key of the temporary chat's thread and run, beside the conversations' (which are UUIDs).
 * Its messages live in this tab's memory only: no conversation, nothing stored anywhere.
 */
export const TEMPORARY = 'temporary';

/** A temporary chat's request body is at most the backend's body limit (413 past it). */
const TEMPORARY_TOO_LONG =
  'This temporary chat is too long to send (its history is sent with each message, 2 MB at most): start a new one.';
const TEMPORARY_LOST =
  'The connection to the answer was lost. A temporary answer cannot be resumed: nothing of it is kept.';

/**
 * The shortest time between two updates of a streaming answer's text: about 30 a second,
 * each in an animation frame. Tokens come faster than that (100 a second is common); each update
 * renders and lays out the answer and repaints the screen, and text growing 30 times a second
 * reads as smoothly as at 60.
 */
const STREAM_UPDATE_MS = 32;

let localCounter = 0;
function localId(prefix: string): string {
  localCounter += 1;
  return `${prefix}-${Date.now().toString(36)}-${localCounter}`;
}

const errorMessage = errorText;

/** An answer to follow over its reattach stream. */
interface FollowedAnswer {
  messageId: string;
  generationId: string;
  comparisonId: string | null;
}

function liveFrom(since: number, fromStart: boolean): LiveFigures {
  return { since, fromStart, pieces: 0, firstAt: null, lastAt: null };
}

/** An answer that has just started, empty and streaming, followed from its start. */
function newAnswer(
  cid: string,
  id: string,
  parentId: string,
  model: string,
  comparisonId: string | null,
  createdAt = new Date().toISOString(),
): ViewMessage {
  return {
    id,
    conversationId: cid,
    parentId,
    role: 'assistant',
    content: '',
    reasoning: null,
    sources: null,
    model,
    status: 'streaming',
    error: null,
    createdAt,
    updatedAt: createdAt,
    generation: null,
    attachments: [],
    comparisonId,
    live: liveFrom(performance.now(), true),
  };
}

function isAbort(err: unknown): boolean {
  return err instanceof DOMException && err.name === 'AbortError';
}

export interface SendOptions {
  conversationId: string;
  content: string;
  model: string | null;
  /** The message this one follows (the branch's last, or an edited message's parent); null: a first message. */
  parentId: string | null;
  /** Files uploaded for this message (sent by id). */
  attachments?: Attachment[];
  /** The backend accepted the message and the answer started streaming. */
  onOpen: () => void;
}

export interface CompareOptions {
  conversationId: string;
  content: string;
  /** 2 to 4 distinct model ids, in the order their answers are shown. */
  models: string[];
  parentId: string | null;
  /** Files uploaded for this question (sent by id, to every model). */
  attachments?: Attachment[];
  onOpen: () => void;
}

export interface TemporarySendOptions {
  content: string;
  model: string;
  fallbackModels: string[];
  providerRouting: ProviderRouting | null;
  /** Sent first, as a system message (none when blank), as a conversation's. */
  systemPrompt: string | null;
  params: GenerationParams;
  onOpen: () => void;
}

/** What one exchange (a question and its streamed answer) needs from its kind of chat. */
interface Exchange {
  /** The thread: a conversation's id, or TEMPORARY. */
  key: string;
  /**
   * The question sent, shown at once (pending until the backend accepts it), the answer below
   * it; null: an answer on an existing message, as `on` says.
   */
  question: { content: string; parentId: string | null; attachments: Attachment[] } | null;
  /**
   * Without a question: `regenerate` shows the answer as a new reply to the question
   * `messageId` (a new branch); `continue` writes on the answer `messageId` in place.
   */
  on?: { kind: 'regenerate' | 'continue'; messageId: string };
  /**
   * The backend accepted the request: a question once its stream tells it was saved
   * (`user_message`, which may follow the answer's first tokens); anything else once its
   * stream opens. A question never accepted stays with the caller (e.g. in the composer).
   */
  onOpen?: () => void;
  /** Posts the request; the answer's events go to the handlers. */
  open: (handlers: StreamHandlers) => Promise<void>;
  /** Shown when the request is refused before any stream starts. */
  refusal?: (err: unknown) => string;
  /**
   * A conversation's answer goes on server-side when its stream breaks off (it is followed
   * again, then the conversation reloaded); a temporary one is stopped with its stream, and
   * nothing of it is kept to reload.
   */
  temporary: boolean;
}

interface AnswerWriter {
  /** The answer's stream brought its `done` or `error`. */
  readonly ended: boolean;
  apply: (event: StreamEvent) => void;
  /** Shows now the text that waits for the next frame (the stream broke off or was left). */
  flush: () => void;
}

/** Text of a streamed field received since it was last shown. */
interface PendingText {
  text: string;
  /** It replaces the field's text (the first delta of a reattached stream) rather than extends it. */
  whole: boolean;
}

/** All chat state of the workspace: one thread per visited conversation, and running answers. */
export function useChats(onConversation: (conversation: Conversation) => void) {
  const [threads, setThreads] = useState<Record<string, Thread>>({});
  const [running, setRunning] = useState<Record<string, Running>>({});
  const controllers = useRef(new Map<string, AbortController>());
  /** The same as `running`, readable synchronously from callbacks. */
  const runningRef = useRef(running);
  const onConversationRef = useRef(onConversation);
  /**
   * Generations a reattach found no longer running: a conversation that still says they stream
   * (their final save failed) is not followed again, so a reload cannot loop.
   */
  const gone = useRef(new Set<string>());
  /** `resume`, for `load` (which it calls in turn once the answers have ended). */
  const resumeRef = useRef<(id: string, answers: FollowedAnswer[]) => void>(() => undefined);

  useEffect(() => {
    onConversationRef.current = onConversation;
  }, [onConversation]);

  // Leaving the workspace (sign-out) ends every running stream.
  useEffect(() => {
    const map = controllers.current;
    return () => {
      for (const controller of map.values()) controller.abort();
      map.clear();
    };
  }, []);

  const updateThread = useCallback((id: string, fn: (thread: Thread) => Thread) => {
    setThreads((prev) => ({ ...prev, [id]: fn(prev[id] ?? EMPTY_THREAD) }));
  }, []);

  /** Changes one message; every other message keeps its object, so its view is not rendered again. */
  const updateMessage = useCallback(
    (conversationId: string, messageId: string, fn: (m: ViewMessage) => ViewMessage) => {
      setThreads((prev) => {
        const thread = prev[conversationId];
        if (!thread) return prev;
        // From the end: the message being streamed is the last, or nearly.
        for (let i = thread.messages.length - 1; i >= 0; i--) {
          const message = thread.messages[i];
          if (message?.id !== messageId) continue;
          const messages = thread.messages.slice();
          messages[i] = fn(message);
          return { ...prev, [conversationId]: { ...thread, messages } };
        }
        return prev;
      });
    },
    [],
  );

  const setRun = useCallback((id: string, run: Running | null) => {
    const next = { ...runningRef.current };
    if (run) next[id] = run;
    else delete next[id];
    runningRef.current = next;
    setRunning(next);
  }, []);

  /** Loads (or reloads) a conversation from the backend. */
  const load = useCallback(
    async (id: string, signal?: AbortSignal): Promise<void> => {
      updateThread(id, (t) => ({ ...t, loading: true, loadError: null }));
      try {
        const detail = await api.getConversation(id, signal);
        onConversationRef.current(detail.conversation);
        // A stream that started meanwhile owns the thread now.
        if (runningRef.current[id]) {
          updateThread(id, (t) => ({ ...t, loading: false }));
          return;
        }
        updateThread(id, (t) => ({
          ...t,
          messages: detail.messages,
          comparisons: detail.comparisons,
          loading: false,
        }));
        // Answers still being written (in another tab, or before a reload): follow them live,
        // every answer of a comparison at once, else the newest.
        const streaming = detail.messages.flatMap((m) =>
          m.role === 'assistant' &&
          m.status === 'streaming' &&
          m.generation !== null &&
          !gone.current.has(m.generation.id)
            ? [{ messageId: m.id, generationId: m.generation.id, comparisonId: m.comparisonId }]
            : [],
        );
        const last = streaming.at(-1);
        if (last) {
          resumeRef.current(
            id,
            last.comparisonId === null
              ? [last]
              : streaming.filter((a) => a.comparisonId === last.comparisonId),
          );
        }
      } catch (err) {
        if (isAbort(err)) return;
        updateThread(id, (t) => ({ ...t, loading: false, loadError: errorMessage(err) }));
      }
    },
    [updateThread],
  );

  /**
   * Applies an answer's stream events to its message. A reattached stream starts with
   * `assistant_message`, then sends the whole text so far in its first `delta` (and
   * `reasoning`): that replaces what is shown, which is always a beginning of it, so the text
   * neither blinks nor repeats.
   *
   * Deltas arrive one per token, far more often than the text needs to be painted: they are
   * gathered and shown in one update per animation frame, at most every STREAM_UPDATE_MS. Any
   * other event first shows what was gathered, so the order of changes is kept.
   */
  const answerWriter = useCallback(
    (cid: string, messageId: string): AnswerWriter => {
      const replace = { content: false, reasoning: false };
      const pending: { content: PendingText | null; reasoning: PendingText | null } = {
        content: null,
        reasoning: null,
      };
      let cancelFrame: (() => void) | null = null;
      let shownAt = -Infinity;
      /** Pieces gathered since the last update, and when the first and last of them came. */
      const counted = { pieces: 0, firstAt: null as number | null, lastAt: 0 };

      const flush = (): void => {
        cancelFrame?.();
        cancelFrame = null;
        const { content, reasoning } = pending;
        if (content === null && reasoning === null) return;
        pending.content = null;
        pending.reasoning = null;
        shownAt = performance.now();
        const { pieces, firstAt, lastAt } = counted;
        counted.pieces = 0;
        counted.firstAt = null;
        updateMessage(cid, messageId, (m) => ({
          ...m,
          ...(content && { content: content.whole ? content.text : m.content + content.text }),
          ...(reasoning && {
            reasoning: reasoning.whole ? reasoning.text : (m.reasoning ?? '') + reasoning.text,
          }),
          ...(m.live && {
            live: {
              ...m.live,
              pieces: m.live.pieces + pieces,
              firstAt: m.live.firstAt ?? firstAt,
              lastAt,
            },
          }),
        }));
      };

      const gather = (field: 'content' | 'reasoning', piece: string): void => {
        const now = performance.now();
        counted.pieces += 1;
        counted.firstAt ??= now;
        counted.lastAt = now;
        const whole = replace[field];
        replace[field] = false;
        const current = pending[field];
        if (current && !whole) current.text += piece;
        else pending[field] = { text: piece, whole };
        cancelFrame ??= onFrame(() => {
          cancelFrame = null;
          flush();
        }, shownAt + STREAM_UPDATE_MS);
      };

      const writer = {
        ended: false,
        flush,
        apply: (event: StreamEvent): void => {
          if (event.type === 'delta' || event.type === 'reasoning') {
            gather(event.type === 'delta' ? 'content' : 'reasoning', event.data.content);
            return;
          }
          flush();
          switch (event.type) {
            case 'assistant_message':
              replace.content = true;
              replace.reasoning = true;
              break;
            case 'usage': {
              const usage = event.data;
              updateMessage(cid, messageId, (m) => ({ ...m, usage }));
              break;
            }
            case 'sources': {
              const sources = event.data.sources;
              updateMessage(cid, messageId, (m) => ({ ...m, sources }));
              break;
            }
            case 'done': {
              writer.ended = true;
              const { status, model, provider, timeToFirstTokenMs, durationMs } = event.data;
              updateMessage(cid, messageId, (m) => ({
                ...m,
                status,
                ...(model
                  ? {
                      servedBy: {
                        model,
                        provider: provider ?? null,
                        timeToFirstTokenMs: timeToFirstTokenMs ?? null,
                        durationMs: durationMs ?? null,
                      },
                    }
                  : {}),
              }));
              break;
            }
            case 'error': {
              writer.ended = true;
              const message = event.data.message;
              updateMessage(cid, messageId, (m) => ({ ...m, status: 'error', error: message }));
              break;
            }
            case 'user_message':
              break;
          }
        },
      };
      return writer;
    },
    [updateMessage],
  );

  /**
   * Follows a running answer after its stream was lost, or when it is found streaming:
   * reattaches (retrying a dropped connection a few times with a short backoff) and shows
   * the replayed, then live, text. The caller reloads the conversation afterwards.
   */
  const follow = useCallback(
    async (cid: string, messageId: string, generationId: string, signal: AbortSignal) => {
      // Counted from now: what was written before comes as one piece.
      updateMessage(cid, messageId, (m) =>
        m.live ? m : { ...m, live: liveFrom(performance.now(), false) },
      );
      const writer = answerWriter(cid, messageId);
      let end: Awaited<ReturnType<typeof followGeneration>>;
      try {
        end = await followGeneration(generationId, { signal, onEvent: writer.apply });
      } finally {
        writer.flush();
      }
      if (end === 'gone') gone.current.add(generationId);
      if (end === 'lost') {
        updateMessage(cid, messageId, (m) =>
          m.status === 'streaming'
            ? { ...m, status: 'interrupted', error: 'The connection to the answer was lost.' }
            : m,
        );
      }
    },
    [answerWriter, updateMessage],
  );

  /**
   * Follows answers found streaming when the conversation loaded (one, or every answer of a
   * comparison, at once); then reloads it.
   */
  const resume = useCallback(
    (cid: string, answers: FollowedAnswer[]) => {
      const last = answers.at(-1);
      if (runningRef.current[cid] || !last) return;
      const controller = new AbortController();
      controllers.current.set(cid, controller);
      setRun(cid, {
        generationId: last.generationId,
        assistantId: last.messageId,
        stopping: false,
        ...(last.comparisonId !== null && {
          comparison: {
            id: last.comparisonId,
            generations: Object.fromEntries(answers.map((a) => [a.messageId, a.generationId])),
          },
        }),
      });
      void (async () => {
        try {
          await Promise.all(
            answers.map((a) => follow(cid, a.messageId, a.generationId, controller.signal)),
          );
        } catch {
          return; // aborted: the tab left the conversation or signed out
        } finally {
          controllers.current.delete(cid);
          setRun(cid, null);
        }
        await load(cid);
      })();
    },
    [follow, load, setRun],
  );

  useEffect(() => {
    resumeRef.current = resume;
  }, [resume]);

  /** Starts an empty thread for a conversation this tab just created. */
  const initThread = useCallback(
    (id: string) => {
      updateThread(id, () => EMPTY_THREAD);
    },
    [updateThread],
  );

  /**
   * Streams an answer into the thread `key`: the answer to a question sent (shown at once,
   * pending until the backend accepts it), or a new or continued answer on an existing message
   * (regenerate, continue); or a comparison's answers, each added as its `comparison` event
   * names them and written from the events that name it (`messageId`). Every answer this tab
   * starts is streamed here.
   */
  const exchange = useCallback(
    async (options: Exchange): Promise<boolean> => {
      const { key: cid, question, on, temporary } = options;
      const now = new Date().toISOString();
      // The question's optimistic message, until the backend's saved one replaces it.
      const tempId = question ? localId(temporary ? 'temporary' : 'pending') : null;
      if (question && tempId) {
        const userMessage: ViewMessage = {
          id: tempId,
          conversationId: cid,
          parentId: question.parentId,
          role: 'user',
          content: question.content,
          reasoning: null,
          sources: null,
          model: null,
          status: 'complete',
          error: null,
          createdAt: now,
          updatedAt: now,
          generation: null,
          attachments: question.attachments,
          comparisonId: null,
          pending: true,
        };
        updateThread(cid, (t) => ({
          ...t,
          sendError: null,
          messages: [...t.messages, userMessage],
        }));
      } else {
        updateThread(cid, (t) => (t.sendError === null ? t : { ...t, sendError: null }));
      }
      const controller = new AbortController();
      controllers.current.set(cid, controller);
      let run: Running = { generationId: null, assistantId: null, stopping: false };
      setRun(cid, run);

      let opened = false;
      // A conversation's question is accepted once the stream says it was saved.
      const confirms = question !== null && !temporary;
      let accepted = false;
      const accept = () => {
        if (accepted) return;
        accepted = true;
        options.onOpen?.();
      };
      /** The stream's error before the question was saved: nothing was kept. */
      let refused: string | null = null;
      let userId: string | null = null;
      /** The answers being written, by message id: one, or a comparison's. */
      const answers = new Map<string, { generationId: string; writer: AnswerWriter }>();
      // Set from the stream's events: a cast keeps TypeScript from narrowing it to null.
      let answer = null as { id: string; generationId: string; writer: AnswerWriter } | null;
      let comparing = false;
      /** The answer an event is for: the one it names (a comparison's), else the one answer. */
      const answerFor = (event: StreamEvent) => {
        const named = 'messageId' in event.data ? event.data.messageId : undefined;
        return (named === undefined ? undefined : answers.get(named)) ?? answer ?? undefined;
      };

      const onEvent = (event: StreamEvent): void => {
        switch (event.type) {
          case 'user_message': {
            if (tempId === null) break;
            userId = event.data.id;
            const saved = event.data;
            // The answer may have started under the optimistic question: it moves to the saved one.
            updateThread(cid, (t) => ({
              ...t,
              messages: t.messages.map((m) =>
                m.id === tempId ? saved : m.parentId === tempId ? { ...m, parentId: saved.id } : m,
              ),
            }));
            accept();
            break;
          }
          case 'comparison': {
            comparing = true;
            const { id, answers: started } = event.data;
            const parent = userId ?? tempId ?? '';
            // A millisecond apart, as the backend stores them: the models' order is kept.
            const base = Date.now();
            const added = started.map((a, i) =>
              newAnswer(cid, a.messageId, parent, a.model, id, new Date(base + i).toISOString()),
            );
            for (const a of started) {
              answers.set(a.messageId, {
                generationId: a.generationId,
                writer: answerWriter(cid, a.messageId),
              });
            }
            const comparison: Comparison = {
              id,
              questionId: parent,
              answerIds: started.map((a) => a.messageId),
              chosenId: null,
              chosenAt: null,
              createdAt: new Date(base).toISOString(),
            };
            updateThread(cid, (t) => ({
              ...t,
              messages: [...t.messages, ...added],
              comparisons: [...t.comparisons, comparison],
            }));
            const last = started.at(-1);
            run = {
              ...run,
              generationId: last?.generationId ?? null,
              assistantId: last?.messageId ?? null,
              comparison: {
                id,
                generations: Object.fromEntries(started.map((a) => [a.messageId, a.generationId])),
              },
            };
            setRun(cid, { ...run, stopping: runningRef.current[cid]?.stopping ?? false });
            break;
          }
          case 'assistant_message': {
            if (comparing) break; // each answer was added with its comparison
            const id = event.data.messageId;
            answer = { id, generationId: event.data.generationId, writer: answerWriter(cid, id) };
            answers.set(id, answer);
            if (on?.kind === 'continue') {
              // The figures shown become this call's (live usage, then the reload's latest
              // generation): the earlier call's "cut at the token limit" no longer holds.
              updateMessage(cid, id, (m) => ({
                ...m,
                status: 'streaming',
                error: null,
                generation: null,
                usage: undefined,
                servedBy: undefined,
                live: liveFrom(performance.now(), false),
              }));
            } else {
              const parent = on?.messageId ?? userId ?? tempId ?? '';
              const assistant = newAnswer(cid, id, parent, event.data.model, null);
              updateThread(cid, (t) => ({ ...t, messages: [...t.messages, assistant] }));
            }
            run = { ...run, generationId: answer.generationId, assistantId: id };
            setRun(cid, { ...run, stopping: runningRef.current[cid]?.stopping ?? false });
            break;
          }
          case 'error': {
            if (confirms && !accepted) refused = event.data.message;
            const target = answerFor(event);
            if (target === undefined) {
              const message = event.data.message;
              updateThread(cid, (t) => ({ ...t, sendError: message }));
            } else target.writer.apply(event);
            break;
          }
          default:
            answerFor(event)?.writer.apply(event);
        }
      };
      const flushAll = () => {
        for (const a of answers.values()) a.writer.flush();
      };
      const unfinished = () => [...answers].filter(([, a]) => !a.writer.ended);

      /** The stream broke off before the answer's end. */
      let lost = false;
      try {
        try {
          await options.open({
            signal: controller.signal,
            onOpen: () => {
              opened = true;
              // A temporary question is never saved: accepted is as confirmed as it gets.
              if (temporary && tempId !== null) {
                updateMessage(cid, tempId, (m) => ({ ...m, pending: false }));
              }
              if (!confirms) accept();
            },
            onEvent,
          });
          flushAll();
          lost = unfinished().length > 0;
        } catch (err) {
          flushAll();
          if (!opened) {
            // Refused before any stream: drop the optimistic message; the draft stays put.
            updateThread(cid, (t) => ({
              ...t,
              messages: t.messages.filter((m) => m.id !== tempId),
              sendError: isAbort(err) ? null : (options.refusal ?? errorMessage)(err),
            }));
          } else if (answers.size > 0) {
            if (isAbort(err)) {
              for (const [id] of unfinished()) {
                updateMessage(cid, id, (m) => ({ ...m, status: 'stopped', error: null }));
              }
            } else lost = unfinished().length > 0;
          } else if (!isAbort(err)) {
            updateThread(cid, (t) => ({ ...t, sendError: errorMessage(err) }));
          }
        }
        if (refused !== null) {
          // The question could not be saved (the stream said so before accepting it): it and
          // its stopped answer leave the thread; the caller keeps the text to send again.
          const dropped = new Set<string>([tempId ?? '', ...answers.keys()]);
          const message = refused;
          updateThread(cid, (t) => ({
            ...t,
            messages: t.messages.filter((m) => !dropped.has(m.id)),
            sendError: message,
          }));
          lost = false;
        }
        if (lost) {
          if (temporary) {
            // Its stream was its only reader: the backend has stopped it.
            for (const [id] of unfinished()) {
              updateMessage(cid, id, (m) =>
                m.status === 'streaming'
                  ? { ...m, status: 'interrupted', error: TEMPORARY_LOST }
                  : m,
              );
            }
          } else {
            // Reattach to each (every answer of a comparison at once): they go on server-side.
            await Promise.all(
              unfinished().map(([id, a]) => follow(cid, id, a.generationId, controller.signal)),
            ).catch(
              () => undefined, // aborted: the tab left the conversation or signed out
            );
          }
        }
      } finally {
        controllers.current.delete(cid);
        setRun(cid, null);
      }
      if (opened && !temporary && refused === null) await load(cid);
      return accepted;
    },
    [answerWriter, follow, load, setRun, updateMessage, updateThread],
  );

  const send = useCallback(
    (options: SendOptions): Promise<boolean> => {
      const { conversationId, content, model, parentId } = options;
      const attachments = options.attachments ?? [];
      return exchange({
        key: conversationId,
        question: { content, parentId, attachments },
        onOpen: options.onOpen,
        temporary: false,
        open: (handlers) =>
          streamMessage(
            conversationId,
            {
              content,
              ...(model ? { model } : {}),
              parentId,
              ...(attachments.length > 0 ? { attachmentIds: attachments.map((a) => a.id) } : {}),
            },
            handlers,
          ),
      });
    },
    [exchange],
  );

  /**
   * Sends a question to 2 to 4 models at once and streams their answers side by side, as
   * send() streams one (exchange): the question shows at once, each answer as the
   * `comparison` event names them. Reloads the conversation at the end.
   */
  const compare = useCallback(
    (options: CompareOptions): Promise<boolean> => {
      const { conversationId, content, models, parentId } = options;
      const attachments = options.attachments ?? [];
      return exchange({
        key: conversationId,
        question: { content, parentId, attachments },
        onOpen: options.onOpen,
        temporary: false,
        open: (handlers) =>
          streamCompare(
            conversationId,
            {
              content,
              models,
              parentId,
              ...(attachments.length > 0 ? { attachmentIds: attachments.map((a) => a.id) } : {}),
            },
            handlers,
          ),
      });
    },
    [exchange],
  );

  /**
   * Chooses the comparison's answer the conversation continues with: recorded by the backend
   * (the conversation takes its model), and kept in the thread.
   */
  const chooseAnswer = useCallback(
    async (cid: string, comparisonId: string, messageId: string): Promise<boolean> => {
      try {
        const { comparison, conversation } = await api.chooseAnswer(cid, comparisonId, messageId);
        updateThread(cid, (t) => ({
          ...t,
          comparisons: t.comparisons.map((c) => (c.id === comparison.id ? comparison : c)),
        }));
        onConversationRef.current(conversation);
        return true;
      } catch (err) {
        updateThread(cid, (t) => ({
          ...t,
          sendError: `Could not choose the answer: ${errorMessage(err)}`,
        }));
        return false;
      }
    },
    [updateThread],
  );

  /**
   * Starts an answer on an existing message and streams it, as send() does: `regenerate`
   * answers a question again (a new sibling answer), `continue` writes on an answer that ended
   * early (its text grows in place). Reloads the conversation at the end.
   */
  const answerOn = useCallback(
    (
      cid: string,
      messageId: string,
      action: { kind: 'regenerate'; body: RegenerateBody } | { kind: 'continue' },
    ): Promise<boolean> => {
      if (runningRef.current[cid]) return Promise.resolve(false);
      return exchange({
        key: cid,
        question: null,
        on: { kind: action.kind, messageId },
        temporary: false,
        open: (handlers) => streamAnswer(cid, messageId, action, handlers),
      });
    },
    [exchange],
  );

  /** Deletes a message and its replies (the backend stops an answer being written there). */
  const deleteMessage = useCallback(
    async (cid: string, messageId: string): Promise<void> => {
      try {
        const { deleted } = await api.deleteMessage(cid, messageId);
        const gone = new Set(deleted);
        updateThread(cid, (t) => ({ ...t, messages: t.messages.filter((m) => !gone.has(m.id)) }));
      } catch (err) {
        updateThread(cid, (t) => ({
          ...t,
          sendError: `Could not delete the message: ${errorMessage(err)}`,
        }));
      }
    },
    [updateThread],
  );

  /**
   * Sends a question of the temporary chat with the whole chat so far, which only this tab
   * holds (the backend stores none of it), into the thread TEMPORARY.
   */
  const sendTemporary = useCallback(
    (options: TemporarySendOptions, history: readonly ViewMessage[]): Promise<boolean> => {
      const { content, model, fallbackModels, providerRouting, systemPrompt, params } = options;
      const messages: TemporaryChatMessage[] = [];
      for (const m of history) {
        if (m.role === 'user' || m.role === 'assistant') {
          messages.push({ role: m.role, content: m.content });
        }
      }
      messages.push({ role: 'user', content });
      return exchange({
        key: TEMPORARY,
        // Files are not sent in a temporary chat: nothing can hold them.
        question: { content, parentId: history.at(-1)?.id ?? null, attachments: [] },
        onOpen: options.onOpen,
        temporary: true,
        refusal: (err) =>
          err instanceof ApiError && err.status === 413 ? TEMPORARY_TOO_LONG : errorMessage(err),
        open: (handlers) =>
          streamTemporary(
            {
              model,
              messages,
              ...(fallbackModels.length > 0 ? { fallbackModels } : {}),
              ...(providerRouting ? { providerRouting } : {}),
              ...(systemPrompt ? { systemPrompt } : {}),
              ...(Object.keys(params).length > 0 ? { params } : {}),
            },
            handlers,
          ),
      });
    },
    [exchange],
  );

  const stop = useCallback(
    async (conversationId: string): Promise<void> => {
      const run = runningRef.current[conversationId];
      if (!run || run.stopping) return;
      setRun(conversationId, { ...run, stopping: true });
      if (run.generationId === null) {
        // No generation yet: cancelling the request is the only way to stop it.
        controllers.current.get(conversationId)?.abort();
        return;
      }
      try {
        // A comparison: every answer of it still being written.
        if (run.comparison) await api.stopComparison(conversationId, run.comparison.id);
        else await api.stopGeneration(run.generationId);
      } catch (err) {
        if (err instanceof ApiError && err.status === 404) return; // it had already finished
        const current = runningRef.current[conversationId];
        if (current) setRun(conversationId, { ...current, stopping: false });
        updateThread(conversationId, (t) => ({
          ...t,
          sendError: `Could not stop the answer: ${errorMessage(err)}`,
        }));
      }
    },
    [setRun, updateThread],
  );

  /** Stops one answer of the comparison being written; the others go on. */
  const stopAnswer = useCallback(
    async (conversationId: string, messageId: string): Promise<void> => {
      const generationId = runningRef.current[conversationId]?.comparison?.generations[messageId];
      if (generationId === undefined) return;
      try {
        await api.stopGeneration(generationId);
      } catch (err) {
        if (err instanceof ApiError && err.status === 404) return; // it had already finished
        updateThread(conversationId, (t) => ({
          ...t,
          sendError: `Could not stop the answer: ${errorMessage(err)}`,
        }));
      }
    },
    [updateThread],
  );

  const forget = useCallback((id: string) => {
    controllers.current.get(id)?.abort();
    setThreads((prev) => {
      const next = { ...prev };
      delete next[id];
      return next;
    });
  }, []);

  const clearSendError = useCallback(
    (id: string) => {
      updateThread(id, (t) => (t.sendError === null ? t : { ...t, sendError: null }));
    },
    [updateThread],
  );

  const isRunning = useCallback((id: string) => runningRef.current[id] !== undefined, []);

  return {
    threads,
    running,
    isRunning,
    load,
    initThread,
    send,
    compare,
    chooseAnswer,
    answerOn,
    deleteMessage,
    sendTemporary,
    stop,
    stopAnswer,
    forget,
    clearSendError,
  };
}

export type Chats = ReturnType<typeof useChats>;
