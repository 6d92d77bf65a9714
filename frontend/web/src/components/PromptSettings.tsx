import { memo, useState, type FormEvent } from 'react';
import type { GenerationParams, Model } from '../api/types';
import { usePopover } from '../lib/usePopover';
import { hasParams, paramsForm, paramsOf, type ParamKey, type ParamsForm } from '../lib/params';
import { ParamsFields } from './ParamsFields';
import { FormActions } from './FormActions';

export interface PromptValue {
  systemPrompt: string | null;
  params: GenerationParams;
}

export const NO_PROMPT: PromptValue = { systemPrompt: null, params: {} };

/** The longest system prompt the API keeps. */
const MAX_SYSTEM_PROMPT = 100_000;

interface PromptSettingsProps {
  /** The conversation's model (or the new chat's): overrides it does not take are greyed. */
  model: Model | undefined;
  value: PromptValue;
  /** Saves the settings; rejects with the API's error, shown in the form. */
  onSave: (value: PromptValue) => Promise<void>;
}

/**
 * A conversation's system prompt and parameter overrides, in a popover from the top bar
 * (beside the routing settings). For a chat not yet started they are kept until it is.
 */
export const PromptSettings = memo(function PromptSettings({
  model,
  value,
  onSave,
}: PromptSettingsProps) {
  const [prompt, setPrompt] = useState(value.systemPrompt ?? '');
  const [form, setForm] = useState<ParamsForm>(() => paramsForm(value.params));
  const popover = usePopover(() => {
    setPrompt(value.systemPrompt ?? '');
    setForm(paramsForm(value.params));
  });
  const { open, rootRef, openerRef, error, busy: saving } = popover;

  function submit(event: FormEvent) {
    event.preventDefault();
    const read = paramsOf(form);
    if ('error' in read) {
      popover.setError(read.error);
      return;
    }
    void popover.run(async () => {
      await onSave({ systemPrompt: prompt === '' ? null : prompt, params: read.params });
      popover.close();
    });
  }

  const on = (value.systemPrompt ?? '') !== '' || hasParams(value.params);

  return (
    <div className="settings-wrap" ref={rootRef}>
      <button
        type="button"
        className={`settings-button${on ? ' on' : ''}`}
        ref={openerRef}
        data-testid="prompt-settings"
        aria-expanded={open}
        onClick={popover.toggle}
      >
        Prompt{on ? ' · on' : ''}
      </button>
      {open && (
        <form className="settings-popover" data-testid="prompt-form" onSubmit={submit}>
          <h3>System prompt</h3>
          <p className="small muted">Sent first, before the conversation, with every message.</p>
          <textarea
            className="prompt-textarea"
            data-testid="system-prompt"
            aria-label="System prompt"
            placeholder="e.g. You are a concise assistant. Answer in British English."
            rows={5}
            maxLength={MAX_SYSTEM_PROMPT}
            value={prompt}
            onChange={(e) => setPrompt(e.target.value)}
          />
          <h3>Parameters</h3>
          <p className="small muted">Blank: the model&apos;s default.</p>
          <ParamsFields
            form={form}
            model={model}
            idPrefix="param"
            onChange={(key: ParamKey, v: string) => setForm((prev) => ({ ...prev, [key]: v }))}
          />
          <FormActions
            error={error}
            errorTestId="prompt-error"
            saving={saving}
            saveTestId="prompt-save"
            onCancel={popover.close}
          />
        </form>
      )}
    </div>
  );
});
