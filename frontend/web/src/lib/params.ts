import type { GenerationParams, Model, ReasoningEffort } from '../api/types';

export type ParamKey = keyof GenerationParams;

/** How each override is edited, and the name the model catalog lists it under. */
export interface ParamSpec {
  key: ParamKey;
  label: string;
  /** Its name in a model's `supportedParameters` (OpenRouter's). */
  catalogName: string;
  /** The range, shown beside the label; empty for a choice from a list. */
  hint: string;
}

export const PARAM_SPECS: readonly ParamSpec[] = [
  { key: 'temperature', label: 'Temperature', catalogName: 'temperature', hint: '0 to 2' },
  { key: 'topP', label: 'Top P', catalogName: 'top_p', hint: '0 to 1' },
  { key: 'maxTokens', label: 'Max tokens', catalogName: 'max_tokens', hint: '1 or more' },
  { key: 'reasoningEffort', label: 'Reasoning effort', catalogName: 'reasoning', hint: '' },
];

export const REASONING_EFFORTS: readonly ReasoningEffort[] = [
  'none',
  'minimal',
  'low',
  'medium',
  'high',
  'xhigh',
];

/**
 * The overrides `model` does not take: those its catalog entry does not list. As on the
 * backend (chat/request.ts), a model the catalog does not know, or lists without any supported
 * parameters, is taken to accept them all.
 */
export function unsupportedParams(model: Model | undefined): Set<ParamKey> {
  const listed = model?.supportedParameters ?? [];
  if (listed.length === 0) return new Set();
  return new Set(PARAM_SPECS.filter((s) => !listed.includes(s.catalogName)).map((s) => s.key));
}

/** The overrides as the form edits them: text, '' for "the model's default". */
export type ParamsForm = Record<ParamKey, string>;

export function paramsForm(params: GenerationParams): ParamsForm {
  return {
    temperature: params.temperature === undefined ? '' : String(params.temperature),
    topP: params.topP === undefined ? '' : String(params.topP),
    maxTokens: params.maxTokens === undefined ? '' : String(params.maxTokens),
    reasoningEffort: params.reasoningEffort ?? '',
  };
}

/**
 * The form as the API's `params`, or the first problem (the API would refuse the same values
 * with 400; said here before sending).
 */
export function paramsOf(form: ParamsForm): { params: GenerationParams } | { error: string } {
  const params: GenerationParams = {};
  const number = (text: string) => (text.trim() === '' ? undefined : Number(text.trim()));
  const temperature = number(form.temperature);
  if (temperature !== undefined) {
    if (!(Number.isFinite(temperature) && temperature >= 0 && temperature <= 2)) {
      return { error: 'Temperature must be a number from 0 to 2.' };
    }
    params.temperature = temperature;
  }
  const topP = number(form.topP);
  if (topP !== undefined) {
    if (!(Number.isFinite(topP) && topP >= 0 && topP <= 1)) {
      return { error: 'Top P must be a number from 0 to 1.' };
    }
    params.topP = topP;
  }
  const maxTokens = number(form.maxTokens);
  if (maxTokens !== undefined) {
    if (!(Number.isInteger(maxTokens) && maxTokens >= 1 && maxTokens <= 1_000_000)) {
      return { error: 'Max tokens must be a whole number from 1 to 1,000,000.' };
    }
    params.maxTokens = maxTokens;
  }
  if (form.reasoningEffort !== '') {
    if (!(REASONING_EFFORTS as readonly string[]).includes(form.reasoningEffort)) {
      return { error: 'Choose a reasoning effort from the list.' };
    }
    params.reasoningEffort = form.reasoningEffort as ReasoningEffort;
  }
  return { params };
}

/** "temperature 0.2 · top P 0.9 · max 500 tokens · effort high"; '' when none are set. */
export function paramsSummary(params: GenerationParams): string {
  const parts: string[] = [];
  if (params.temperature !== undefined) parts.push(`temperature ${params.temperature}`);
  if (params.topP !== undefined) parts.push(`top P ${params.topP}`);
  if (params.maxTokens !== undefined) parts.push(`max ${params.maxTokens} tokens`);
  if (params.reasoningEffort !== undefined) parts.push(`effort ${params.reasoningEffort}`);
  return parts.join(' · ');
}

export function hasParams(params: GenerationParams): boolean {
  return Object.values(params).some((v) => v !== undefined);
}
