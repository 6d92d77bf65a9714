import type { Usage } from '../openrouter/types.js';
import type { FinishedGeneration } from './repo.js';

/** What one generation amounted to, told once it has ended and been saved. */
export interface GenerationSummary {
  model: string;
  status: FinishedGeneration['status'];
  /** The code of the upstream failure, when the upstream call failed. */
  upstreamErrorCode: string | null;
  usage: Usage | null;
  timeToFirstTokenSeconds: number | null;
  durationSeconds: number;
}

/**
 * Where the chat reports its figures. The chat code depends on this interface only, so the
 * metrics implementation (Prometheus today) is passed in and tests can pass their own.
 */
export interface ChatMetrics {
  generationStarted(model: string): void;
  generationEnded(summary: GenerationSummary): void;
}

export const noChatMetrics: ChatMetrics = {
  generationStarted() {},
  generationEnded() {},
};
