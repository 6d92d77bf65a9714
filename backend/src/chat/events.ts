import type { Source } from '../openrouter/types.js';

export interface UsageData {
  promptTokens: number;
  completionTokens: number;
  reasoningTokens: number;
  cost: number | null;
}

/** What a running generation tells its listeners; the names are the SSE event names. */
export type GenerationEvent =
  | { event: 'delta'; data: { content: string } }
  | { event: 'reasoning'; data: { content: string } }
  | { event: 'usage'; data: UsageData }
  /** Every source cited so far (the whole list each time). */
  | { event: 'sources'; data: { sources: Source[] } }
  | {
      event: 'done';
      data: {
        messageId: string;
        finishReason: string | null;
        status: 'complete' | 'stopped';
        /** The model that answered (a fallback when the first failed) and the provider that served it. */
        model: string;
        provider: string | null;
        /** As saved with the generation: from the request to the first token, and to the end. */
        timeToFirstTokenMs: number | null;
        durationMs: number;
      };
    }
  | { event: 'error'; data: { code: string; message: string } };

export type GenerationListener = (event: GenerationEvent) => void;
