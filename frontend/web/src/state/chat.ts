import { useCallback, useEffect, useRef, useState } from 'react';
import { ApiError, api, streamMessage } from '../api/client';
import type { Conversation, Message, StreamEvent, Usage } from '../api/types';
import { errorText } from '../lib/errors';

/** A message as shown: the saved one, plus live usage while it streams. */
export interface ViewMessage extends Message {
  usage?: Usage;
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
  parentId: string | null;
  /** The backend accepted the message and the answer started streaming. */
  onOpen: () => void;
}

/** All chat state of the workspace: one thread per visited conversation, and running answers. */
export function useChats(onConversation: (conversation: Conversation) => void) {
  const [threads, setThreads] = useState<Record<string, Thread>>({});
  const [running, setRunning] = useState<Record<string, Running>>({});
  const controllers = useRef(new Map<string, AbortController>());
  /** The same as `running`, readable synchronously from callbacks. */
  const runningRef = useRef(running);
  const onConversationRef = useRef(onConversation);

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

  const updateMessage = useCallback(
    (conversationId: string, messageId: string, fn: (m: ViewMessage) => ViewMessage) => {
      updateThread(conversationId, (t) => ({
        ...t,
        messages: t.messages.map((m) => (m.id === messageId ? fn(m) : m)),
      }));
    },
    [updateThread],
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
      } catch (err) {
        if (isAbort(err)) return;
        updateThread(id, (t) => ({ ...t, loading: false, loadError: errorMessage(err) }));
      }
    },
    [updateThread],
  );

  /** Starts an empty thread for a conversation this tab just created. */
  const initThread = useCallback(
    (id: string) => {
      updateThread(id, () => EMPTY_THREAD);
    },
    [updateThread],
  );

  const send = useCallback(
    async (options: SendOptions): Promise<boolean> => {
      const { conversationId: cid, content, model, parentId } = options;
      const now = new Date().toISOString();
      const tempId = localId('pending');
      const userMessage: ViewMessage = {
        id: tempId,
        conversationId: cid,
        parentId,
        role: 'user',
        content,
        reasoning: null,
        model: null,
        status: 'complete',
        error: null,
        createdAt: now,
        updatedAt: now,
        generation: null,
        pending: true,
      };
      updateThread(cid, (t) => ({
        ...t,
        sendError: null,
        messages: [...t.messages, userMessage],
      }));
      const controller = new AbortController();
      controllers.current.set(cid, controller);
      let run: Running = { generationId: null, assistantId: null, stopping: false };
      setRun(cid, run);

      let opened = false;
      let finished = false;
      let userId: string | null = null;
      let assistantId: string | null = null;

      const onEvent = (event: StreamEvent): void => {
        switch (event.type) {
          case 'user_message': {
            userId = event.data.id;
            const saved = event.data;
            updateMessage(cid, tempId, () => saved);
            break;
          }
          case 'assistant_message': {
            const id = event.data.messageId;
            assistantId = id;
            const at = new Date().toISOString();
            const assistant: ViewMessage = {
              id,
              conversationId: cid,
              parentId: userId ?? tempId,
              role: 'assistant',
              content: '',
              reasoning: null,
              model: event.data.model,
              status: 'streaming',
              error: null,
              createdAt: at,
              updatedAt: at,
              generation: null,
            };
            updateThread(cid, (t) => ({ ...t, messages: [...t.messages, assistant] }));
            run = { ...run, generationId: event.data.generationId, assistantId: id };
            setRun(cid, run);
            break;
          }
          case 'delta': {
            if (assistantId === null) break;
            const piece = event.data.content;
            updateMessage(cid, assistantId, (m) => ({ ...m, content: m.content + piece }));
            break;
          }
          case 'reasoning': {
            if (assistantId === null) break;
            const piece = event.data.content;
            updateMessage(cid, assistantId, (m) => ({
              ...m,
              reasoning: (m.reasoning ?? '') + piece,
            }));
            break;
          }
          case 'usage': {
            if (assistantId === null) break;
            const usage = event.data;
            updateMessage(cid, assistantId, (m) => ({ ...m, usage }));
            break;
          }
          case 'done': {
            finished = true;
            const status = event.data.status;
            updateMessage(cid, event.data.messageId, (m) => ({ ...m, status }));
            break;
          }
          case 'error': {
            finished = true;
            const message = event.data.message;
            if (assistantId === null) {
              updateThread(cid, (t) => ({ ...t, sendError: message }));
            } else {
              updateMessage(cid, assistantId, (m) => ({ ...m, status: 'error', error: message }));
            }
            break;
          }
        }
      };

      try {
        await streamMessage(
          cid,
          {
            content,
            ...(model ? { model } : {}),
            ...(parentId ? { parentId } : {}),
          },
          {
            signal: controller.signal,
            onOpen: () => {
              opened = true;
              options.onOpen();
            },
            onEvent,
          },
        );
        if (!finished && assistantId !== null) {
          const id = assistantId;
          updateMessage(cid, id, (m) => ({
            ...m,
            status: 'interrupted',
            error: m.error ?? 'The answer stream ended unexpectedly.',
          }));
        }
      } catch (err) {
        if (!opened) {
          // Refused before any stream: drop the optimistic message; the draft stays put.
          updateThread(cid, (t) => ({
            ...t,
            messages: t.messages.filter((m) => m.id !== tempId),
            sendError: isAbort(err) ? null : errorMessage(err),
          }));
        } else if (assistantId !== null) {
          const id = assistantId;
          const aborted = isAbort(err);
          updateMessage(cid, id, (m) => ({
            ...m,
            status: aborted ? 'stopped' : 'interrupted',
            error: aborted ? null : `The connection was lost: ${errorMessage(err)}`,
          }));
        } else if (!isAbort(err)) {
          updateThread(cid, (t) => ({ ...t, sendError: errorMessage(err) }));
        }
      } finally {
        controllers.current.delete(cid);
        setRun(cid, null);
      }
      if (opened) await load(cid);
      return opened;
    },
    [load, setRun, updateMessage, updateThread],
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

  return { threads, running, isRunning, load, initThread, send, stop, forget, clearSendError };
}

export type Chats = ReturnType<typeof useChats>;
