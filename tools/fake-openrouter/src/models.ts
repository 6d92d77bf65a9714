/**
 * The FAKE model catalog served at GET /api/v1/models, in the shape OpenRouter documents for its
 * Models API (snake_case, prices as strings of USD per token). Every entry is fake: the ids that
 * look like real OpenRouter ids only exist so that a UI shows realistic names and prices.
 */

export interface FakeModelPricing {
  prompt: string;
  completion: string;
  request: string;
  image: string;
  web_search: string;
  internal_reasoning: string;
  input_cache_read?: string;
  input_cache_write?: string;
}

export interface FakeModel {
  id: string;
  canonical_slug: string;
  name: string;
  created: number;
  description: string;
  context_length: number;
  architecture: {
    modality: string;
    input_modalities: string[];
    output_modalities: string[];
    tokenizer: string;
    instruct_type: string | null;
  };
  pricing: FakeModelPricing;
  top_provider: {
    context_length: number | null;
    max_completion_tokens: number | null;
    is_moderated: boolean;
  };
  per_request_limits: Record<string, string> | null;
  supported_parameters: string[];
}

const FAKE_NOTE =
  'FAKE model served by tools/fake-openrouter for tests; it does not exist on OpenRouter.';

const COMMON_PARAMETERS = [
  'max_tokens',
  'temperature',
  'top_p',
  'stop',
  'frequency_penalty',
  'presence_penalty',
  'seed',
  'response_format',
];

const textOnly = {
  modality: 'text->text',
  input_modalities: ['text'],
  output_modalities: ['text'],
  tokenizer: 'Other',
  instruct_type: null,
};

function fakeScenarioModel(
  scenario: string,
  name: string,
  what: string,
  extra: Partial<FakeModel> = {},
): FakeModel {
  return {
    id: `fake/${scenario}`,
    canonical_slug: `fake/${scenario}-20250101`,
    name: `Fake: ${name}`,
    created: 1735689600,
    description: `${FAKE_NOTE} Scenario "${scenario}": ${what}`,
    context_length: 32768,
    architecture: textOnly,
    pricing: {
      prompt: '0.000001',
      completion: '0.000002',
      request: '0',
      image: '0',
      web_search: '0',
      internal_reasoning: '0',
    },
    top_provider: { context_length: 32768, max_completion_tokens: 4096, is_moderated: false },
    per_request_limits: null,
    supported_parameters: COMMON_PARAMETERS,
    ...extra,
  };
}

export const defaultModels: FakeModel[] = [
  fakeScenarioModel('echo', 'Echo', 'streams "You said: <last user message>." plus filler words.'),
  fakeScenarioModel('slow', 'Slow', 'streams 40 chunks 50 ms apart (options chunks, delay).'),
  fakeScenarioModel(
    'reasoning',
    'Reasoning',
    'streams reasoning (delta.reasoning and reasoning_details) before the answer.',
    {
      pricing: {
        prompt: '0.0000011',
        completion: '0.0000044',
        request: '0',
        image: '0',
        web_search: '0',
        internal_reasoning: '0',
        input_cache_read: '0.000000275',
      },
      supported_parameters: [...COMMON_PARAMETERS, 'reasoning', 'include_reasoning'],
    },
  ),
  fakeScenarioModel('error', 'Error', 'answers with an HTTP error (option status, default 500).'),
  fakeScenarioModel(
    'midstream-error',
    'Mid-stream error',
    'streams a few chunks (option after) then an error chunk with finish_reason "error".',
  ),
  fakeScenarioModel('drop', 'Dropped connection', 'streams a few chunks then drops the socket.'),
  fakeScenarioModel('length', 'Length limit', 'streams normally but finishes with "length".'),
  fakeScenarioModel(
    'stall',
    'Stalled stream',
    'streams a few chunks (option after) then sends nothing, not even keep-alives.',
  ),
  fakeScenarioModel(
    'reset',
    'Connection reset',
    'streams a few chunks (option after) then resets the TCP connection.',
  ),
  fakeScenarioModel(
    'malformed',
    'Malformed chunk',
    'streams a chunk of broken JSON after a few chunks (option after), then the rest.',
  ),
  fakeScenarioModel(
    'no-done',
    'No [DONE]',
    'streams the content then ends without a finish_reason or [DONE].',
  ),
  {
    id: 'openai/gpt-4o-mini',
    canonical_slug: 'openai/gpt-4o-mini',
    name: 'OpenAI: GPT-4o-mini (fake)',
    created: 1721260800,
    description: `${FAKE_NOTE} Looks like a small multimodal OpenAI model; answers like fake/echo.`,
    context_length: 128000,
    architecture: {
      modality: 'text+image->text',
      input_modalities: ['text', 'image', 'file'],
      output_modalities: ['text'],
      tokenizer: 'GPT',
      instruct_type: null,
    },
    pricing: {
      prompt: '0.00000015',
      completion: '0.0000006',
      request: '0',
      image: '0.000217',
      web_search: '0',
      internal_reasoning: '0',
      input_cache_read: '0.000000075',
    },
    top_provider: { context_length: 128000, max_completion_tokens: 16384, is_moderated: true },
    per_request_limits: null,
    supported_parameters: [...COMMON_PARAMETERS, 'tools', 'tool_choice', 'logprobs'],
  },
  {
    id: 'anthropic/claude-3.5-haiku',
    canonical_slug: 'anthropic/claude-3-5-haiku',
    name: 'Anthropic: Claude 3.5 Haiku (fake)',
    created: 1730678400,
    description: `${FAKE_NOTE} Looks like a fast Anthropic model; answers like fake/echo.`,
    context_length: 200000,
    architecture: {
      modality: 'text+image->text',
      input_modalities: ['text', 'image'],
      output_modalities: ['text'],
      tokenizer: 'Claude',
      instruct_type: null,
    },
    pricing: {
      prompt: '0.0000008',
      completion: '0.000004',
      request: '0',
      image: '0',
      web_search: '0',
      internal_reasoning: '0',
      input_cache_read: '0.00000008',
      input_cache_write: '0.000001',
    },
    top_provider: { context_length: 200000, max_completion_tokens: 8192, is_moderated: false },
    per_request_limits: null,
    supported_parameters: ['max_tokens', 'temperature', 'top_p', 'top_k', 'stop', 'tools'],
  },
  {
    id: 'meta-llama/llama-3.3-70b-instruct:free',
    canonical_slug: 'meta-llama/llama-3.3-70b-instruct',
    name: 'Meta: Llama 3.3 70B Instruct (free) (fake)',
    created: 1733506137,
    description: `${FAKE_NOTE} A free-tier looking model: every price is "0", so cost is 0.`,
    context_length: 65536,
    architecture: { ...textOnly, tokenizer: 'Llama3', instruct_type: 'llama3' },
    pricing: {
      prompt: '0',
      completion: '0',
      request: '0',
      image: '0',
      web_search: '0',
      internal_reasoning: '0',
    },
    top_provider: { context_length: 65536, max_completion_tokens: 8192, is_moderated: false },
    per_request_limits: null,
    supported_parameters: COMMON_PARAMETERS,
  },
  {
    id: 'google/gemini-2.0-flash-exp:free',
    canonical_slug: 'google/gemini-2.0-flash-exp',
    name: 'Google: Gemini 2.0 Flash Experimental (free) (fake)',
    created: 1733937523,
    description: `${FAKE_NOTE} A free multimodal model with a 1M-token context; answers like fake/echo.`,
    context_length: 1048576,
    architecture: {
      modality: 'text+image->text',
      input_modalities: ['text', 'image', 'file'],
      output_modalities: ['text'],
      tokenizer: 'Gemini',
      instruct_type: null,
    },
    pricing: {
      prompt: '0',
      completion: '0',
      request: '0',
      image: '0',
      web_search: '0',
      internal_reasoning: '0',
    },
    top_provider: { context_length: 1048576, max_completion_tokens: 8192, is_moderated: false },
    per_request_limits: null,
    supported_parameters: ['max_tokens', 'temperature', 'top_p', 'stop', 'tools', 'tool_choice'],
  },
  {
    id: 'deepseek/deepseek-r1',
    canonical_slug: 'deepseek/deepseek-r1',
    name: 'DeepSeek: R1 (fake)',
    created: 1737381095,
    description: `${FAKE_NOTE} Looks like an open reasoning model; answers like fake/echo.`,
    context_length: 163840,
    architecture: { ...textOnly, tokenizer: 'DeepSeek', instruct_type: 'deepseek-r1' },
    pricing: {
      prompt: '0.0000004',
      completion: '0.000002',
      request: '0',
      image: '0',
      web_search: '0',
      internal_reasoning: '0',
    },
    top_provider: { context_length: 163840, max_completion_tokens: 163840, is_moderated: false },
    per_request_limits: null,
    supported_parameters: [...COMMON_PARAMETERS, 'reasoning', 'include_reasoning', 'tools'],
  },
];

/** Pricing used for model ids that are not in the catalog (they still answer, like fake/echo). */
export const fallbackPricing: FakeModelPricing = {
  prompt: '0.000001',
  completion: '0.000002',
  request: '0',
  image: '0',
  web_search: '0',
  internal_reasoning: '0',
};

/** The provider name a real OpenRouter chunk would carry, derived from the model id's prefix. */
export function providerFor(modelId: string): string {
  const prefix = modelId.split('/')[0] ?? '';
  const known: Record<string, string> = {
    fake: 'FakeProvider',
    openai: 'OpenAI',
    anthropic: 'Anthropic',
    'meta-llama': 'DeepInfra',
    google: 'Google',
    deepseek: 'DeepSeek',
  };
  return known[prefix] ?? 'FakeProvider';
}
