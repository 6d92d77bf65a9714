import { useCallback, useEffect, useRef, useState } from 'react';
import {
  ApiError,
  api,
  streamAnswer,
  streamMessage,
  streamTemporary,
  type StreamHandlers,
} from '../api/client';
import type {
  Attachment,
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
  /** The model and provider that answered, from the stream's `done` (until the saved generation is loaded). */
  servedBy?: { model: string; provider: string | null };
  /** Sent by this tab, not yet confirmed by the backend. */
  pending?: boolean;
}

export interface Thread {
  messages: ViewMessage[];
  /** A failure that belongs to no assistant message (e.g. the send was refused). */
  sendError: string | null;
  loading: boolean;
  loadError: string | null;
}

export interface Running {
  generationId: string | null;
  assistantId: string | null;
  stopping: boolean;
}

const EMPTY_THREAD: Thread = { messages: [], sendError: null, loading: false, loadError: null };

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
  /** The backend accepted the request and the answer started streaming. */
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
  /** `resume`, for `load` (which it calls in turn once the answer has ended). */
  const resumeRef = useRef<(id: string, assistantId: string, generationId: string) => void>(
    () => undefined,
  );

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
        updateThread(id, (t) => ({ ...t, messages: detail.messages, loading: false }));
        // An answer still being written (in another tab, or before a reload): follow it live.
        const streaming = detail.messages.filter(
          (m) =>
            m.role === 'assistant' &&
            m.status === 'streaming' &&
            m.generation !== null &&
            !gone.current.has(m.generation.id),
        );
        const last = streaming.at(-1);
        if (last?.generation) resumeRef.current(id, last.id, last.generation.id);
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

      const flush = (): void => {
        cancelFrame?.();
        cancelFrame = null;
        const { content, reasoning } = pending;
        if (content === null && reasoning === null) return;
        pending.content = null;
        pending.reasoning = null;
        shownAt = performance.now();
        updateMessage(cid, messageId, (m) => ({
          ...m,
          ...(content && { content: content.whole ? content.text : m.content + content.text }),
          ...(reasoning && {
            reasoning: reasoning.whole ? reasoning.text : (m.reasoning ?? '') + reasoning.text,
          }),
        }));
      };

      const gather = (field: 'content' | 'reasoning', piece: string): void => {
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
              const { status, model, provider } = event.data;
              updateMessage(cid, messageId, (m) => ({
                ...m,
                status,
                ...(model ? { servedBy: { model, provider: provider ?? null } } : {}),
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

  /** Follows an answer found streaming when the conversation loaded; then reloads it. */
  const resume = useCallback(
    (cid: string, messageId: string, generationId: string) => {
      if (runningRef.current[cid]) return;
      const controller = new AbortController();
      controllers.current.set(cid, controller);
      setRun(cid, { generationId, assistantId: messageId, stopping: false });
      void (async () => {
        try {
          await follow(cid, messageId, generationId, controller.signal);
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
   * (regenerate, continue). Every answer this tab starts is streamed here.
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
      let userId: string | null = null;
      // Set from the stream's events: a cast keeps TypeScript from narrowing it to null.
      let answer = null as { id: string; generationId: string; writer: AnswerWriter } | null;

      const onEvent = (event: StreamEvent): void => {
        switch (event.type) {
          case 'user_message': {
            if (tempId === null) break;
            userId = event.data.id;
            const saved = event.data;
            updateMessage(cid, tempId, () => saved);
            break;
          }
          case 'assistant_message': {
            const id = event.data.messageId;
            answer = { id, generationId: event.data.generationId, writer: answerWriter(cid, id) };
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
              }));
            } else {
              const at = new Date().toISOString();
              const assistant: ViewMessage = {
                id,
                conversationId: cid,
                parentId: on?.messageId ?? userId ?? tempId,
                role: 'assistant',
                content: '',
                reasoning: null,
                sources: null,
                model: event.data.model,
                status: 'streaming',
                error: null,
                createdAt: at,
                updatedAt: at,
                generation: null,
                attachments: [],
              };
              updateThread(cid, (t) => ({ ...t, messages: [...t.messages, assistant] }));
            }
            run = { ...run, generationId: answer.generationId, assistantId: id };
            setRun(cid, run);
            break;
          }
          case 'error':
            if (answer === null) {
              const message = event.data.message;
              updateThread(cid, (t) => ({ ...t, sendError: message }));
            } else answer.writer.apply(event);
            break;
          default:
            answer?.writer.apply(event);
        }
      };

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
              options.onOpen?.();
            },
            onEvent,
          });
          answer?.writer.flush();
          lost = answer !== null && !answer.writer.ended;
        } catch (err) {
          answer?.writer.flush();
          if (!opened) {
            // Refused before any stream: drop the optimistic message; the draft stays put.
            updateThread(cid, (t) => ({
              ...t,
              messages: t.messages.filter((m) => m.id !== tempId),
              sendError: isAbort(err) ? null : (options.refusal ?? errorMessage)(err),
            }));
          } else if (answer !== null) {
            if (isAbort(err)) {
              const id = answer.id;
              updateMessage(cid, id, (m) => ({ ...m, status: 'stopped', error: null }));
            } else lost = !answer.writer.ended;
          } else if (!isAbort(err)) {
            updateThread(cid, (t) => ({ ...t, sendError: errorMessage(err) }));
          }
        }
        if (lost && answer !== null) {
          if (temporary) {
            // Its stream was its only reader: the backend has stopped it.
            updateMessage(cid, answer.id, (m) =>
              m.status === 'streaming' ? { ...m, status: 'interrupted', error: TEMPORARY_LOST } : m,
            );
          } else {
            // Reattach to it: it goes on server-side.
            await follow(cid, answer.id, answer.generationId, controller.signal).catch(
              () => undefined, // aborted: the tab left the conversation or signed out
            );
          }
        }
      } finally {
        controllers.current.delete(cid);
        setRun(cid, null);
      }
      if (opened && !temporary) await load(cid);
      return opened;
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
        await api.stopGeneration(run.generationId);
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
    answerOn,
    deleteMessage,
    sendTemporary,
    stop,
    forget,
    clearSendError,
  };
}

export type Chats = ReturnType<typeof useChats>;
