import { describe, expect, it } from 'vitest';
import { chatRequest, hasParams, paramsFor } from './request.js';

const conversation = {
  systemPrompt: 'Be brief.',
  params: { temperature: 0.2, topP: 0.9, maxTokens: 50, reasoningEffort: 'low' as const },
  fallbackModels: ['fake/echo'],
  providerRouting: { sort: 'price' as const },
};

describe('paramsFor', () => {
  it('keeps the overrides whose catalog names the model lists', () => {
    expect(paramsFor(conversation.params, new Set(['temperature', 'reasoning', 'tools']))).toEqual({
      temperature: 0.2,
      reasoningEffort: 'low',
    });
    expect(paramsFor(conversation.params, new Set(['top_p', 'max_tokens']))).toEqual({
      topP: 0.9,
      maxTokens: 50,
    });
    // include_reasoning alone is not the reasoning object.
    expect(paramsFor({ reasoningEffort: 'high' }, new Set(['include_reasoning']))).toEqual({});
  });

  it('keeps them all when the catalog says nothing of the model', () => {
    expect(paramsFor(conversation.params, null)).toEqual(conversation.params);
  });
});

describe('chatRequest', () => {
  it('puts the system prompt first and leaves out empty messages', () => {
    const request = chatRequest({
      conversation,
      model: 'fake/reasoning',
      branch: [
        { role: 'user', content: 'one' },
        { role: 'assistant', content: '' },
        { role: 'user', content: 'two' },
      ],
      supported: new Set(['temperature']),
    });
    expect(request).toEqual({
      model: 'fake/reasoning',
      models: ['fake/echo'],
      provider: { sort: 'price' },
      messages: [
        { role: 'system', content: 'Be brief.' },
        { role: 'user', content: 'one' },
        { role: 'user', content: 'two' },
      ],
      params: { temperature: 0.2 },
    });
  });

  it('sends no system message for a blank prompt and no params when none apply', () => {
    const request = chatRequest({
      conversation: { ...conversation, systemPrompt: ' \n', params: {} },
      model: 'm',
      branch: [{ role: 'user', content: 'hi' }],
      supported: null,
    });
    expect(request.messages).toEqual([{ role: 'user', content: 'hi' }]);
    expect(request).not.toHaveProperty('params');
    expect(hasParams({ params: {} })).toBe(false);
    expect(hasParams({ params: { maxTokens: 1 } })).toBe(true);
  });
});
