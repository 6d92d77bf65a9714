import { memo, useState, type FormEvent } from 'react';
import type { Model, Preset } from '../api/types';
import { usePopover } from '../lib/usePopover';
import { paramsForm, paramsOf, paramsSummary, type ParamKey, type ParamsForm } from '../lib/params';
import type { Presets } from '../state/presets';
import { ParamsFields } from './ParamsFields';
import type { PromptValue } from './PromptSettings';
import { FormActions } from './FormActions';

/** What a preset holds, as the current chat has it: the start of a new preset. */
export interface CurrentSettings extends PromptValue {
  model: string | null;
}

interface PresetMenuProps {
  presets: Presets;
  models: Model[];
  current: CurrentSettings;
  /** True before the chat exists: a preset then sets how it starts. */
  newChat: boolean;
  /** The preset the new chat will start from, if one was chosen. */
  applied: string | null;
  onApply: (preset: Preset) => Promise<void>;
}

interface Draft {
  /** The preset being edited; null for a new one. */
  id: string | null;
  name: string;
  model: string;
  systemPrompt: string;
  params: ParamsForm;
}

function draftOf(preset: Preset | null, current: CurrentSettings): Draft {
  const from = preset ?? { ...current, name: '' };
  return {
    id: preset?.id ?? null,
    name: from.name,
    model: from.model ?? '',
    systemPrompt: from.systemPrompt ?? '',
    params: paramsForm(from.params),
  };
}

/**
 * The user's presets (a model, system prompt and parameters under a name), in a popover from
 * the top bar: choose one to start a new chat with it (or to apply it to this conversation),
 * save the current settings as a new one, edit or delete one.
 */
export const PresetMenu = memo(function PresetMenu({
  presets,
  models,
  current,
  newChat,
  applied,
  onApply,
}: PresetMenuProps) {
  const [draft, setDraft] = useState<Draft | null>(null);
  const [deleting, setDeleting] = useState<string | null>(null);
  const popover = usePopover(() => {
    setDraft(null);
    setDeleting(null);
  });
  const { open, rootRef, openerRef, busy, error, setError, run } = popover;

  function apply(preset: Preset) {
    void run(async () => {
      await onApply(preset);
      popover.close();
    });
  }

  function remove(id: string) {
    void run(async () => {
      await presets.remove(id);
      setDeleting(null);
    });
  }

  function save(event: FormEvent) {
    event.preventDefault();
    if (!draft) return;
    if (draft.name.trim() === '') {
      setError('Give the preset a name.');
      return;
    }
    const read = paramsOf(draft.params);
    if ('error' in read) {
      setError(read.error);
      return;
    }
    const body = {
      name: draft.name,
      model: draft.model === '' ? null : draft.model,
      systemPrompt: draft.systemPrompt === '' ? null : draft.systemPrompt,
      params: read.params,
    };
    void run(async () => {
      if (draft.id === null) await presets.create(body);
      else await presets.update(draft.id, body);
      setDraft(null);
    });
  }

  const modelName = (id: string | null) =>
    id === null ? 'Your default model' : (models.find((m) => m.id === id)?.name ?? id);
  const summaryOf = (preset: Preset) =>
    [
      modelName(preset.model),
      preset.systemPrompt ? 'system prompt' : '',
      paramsSummary(preset.params),
    ]
      .filter(Boolean)
      .join(' · ');

  return (
    <div className="settings-wrap" ref={rootRef}>
      <button
        type="button"
        className={`settings-button${applied ? ' on' : ''}`}
        ref={openerRef}
        data-testid="presets-button"
        aria-expanded={open}
        onClick={popover.toggle}
      >
        {newChat && applied ? `Preset: ${applied}` : 'Presets'}
      </button>
      {open && (
        <div className="settings-popover preset-menu" data-testid="presets-menu">
          {draft === null ? (
            <>
              <h3>Presets</h3>
              <p className="small muted">
                {newChat
                  ? 'Start this chat with a preset’s model, system prompt and parameters.'
                  : 'Apply a preset’s model, system prompt and parameters to this conversation.'}
              </p>
              {presets.error && (
                <p className="form-error" role="alert">
                  {presets.error}
                </p>
              )}
              {presets.items.length === 0 && !presets.error && (
                <p className="small muted" data-testid="presets-empty">
                  No presets yet.
                </p>
              )}
              <ul className="preset-list">
                {presets.items.map((preset) => (
                  <li key={preset.id} className="preset-row" data-testid="preset-row">
                    {deleting === preset.id ? (
                      <div className="preset-confirm">
                        <span>Delete “{preset.name}”?</span>
                        <button
                          type="button"
                          className="button danger"
                          data-testid="preset-delete-confirm"
                          disabled={busy}
                          onClick={() => remove(preset.id)}
                        >
                          Delete
                        </button>
                        <button type="button" className="button" onClick={() => setDeleting(null)}>
                          Keep
                        </button>
                      </div>
                    ) : (
                      <>
                        <button
                          type="button"
                          className="preset-apply"
                          data-testid="preset-apply"
                          disabled={busy}
                          onClick={() => apply(preset)}
                        >
                          <span className="preset-name">{preset.name}</span>
                          <span className="preset-summary" title={summaryOf(preset)}>
                            {summaryOf(preset)}
                          </span>
                        </button>
                        <button
                          type="button"
                          className="link-button"
                          data-testid="preset-edit"
                          onClick={() => {
                            setError(null);
                            setDraft(draftOf(preset, current));
                          }}
                        >
                          Edit
                        </button>
                        <button
                          type="button"
                          className="link-button"
                          data-testid="preset-delete"
                          onClick={() => setDeleting(preset.id)}
                        >
                          Delete
                        </button>
                      </>
                    )}
                  </li>
                ))}
              </ul>
              {error && (
                <p className="form-error" role="alert" data-testid="preset-error">
                  {error}
                </p>
              )}
              <div className="settings-actions">
                <button
                  type="button"
                  className="button"
                  data-testid="preset-new"
                  onClick={() => {
                    setError(null);
                    setDraft(draftOf(null, current));
                  }}
                >
                  Save current settings as a preset…
                </button>
              </div>
            </>
          ) : (
            <form data-testid="preset-form" onSubmit={save}>
              <h3>{draft.id === null ? 'New preset' : 'Edit preset'}</h3>
              <label className="field">
                <span>Name</span>
                <input
                  data-testid="preset-form-name"
                  maxLength={100}
                  value={draft.name}
                  onChange={(e) => setDraft({ ...draft, name: e.target.value })}
                />
              </label>
              <label className="field">
                <span>Model</span>
                <select
                  data-testid="preset-form-model"
                  value={draft.model}
                  onChange={(e) => setDraft({ ...draft, model: e.target.value })}
                >
                  <option value="">Your default model</option>
                  {draft.model !== '' && !models.some((m) => m.id === draft.model) && (
                    <option value={draft.model}>{draft.model}</option>
                  )}
                  {models.map((m) => (
                    <option key={m.id} value={m.id}>
                      {m.name}
                    </option>
                  ))}
                </select>
              </label>
              <label className="field">
                <span>System prompt</span>
                <textarea
                  className="prompt-textarea"
                  data-testid="preset-form-prompt"
                  rows={4}
                  maxLength={100_000}
                  value={draft.systemPrompt}
                  onChange={(e) => setDraft({ ...draft, systemPrompt: e.target.value })}
                />
              </label>
              <ParamsFields
                form={draft.params}
                model={models.find((m) => m.id === draft.model)}
                idPrefix="preset-param"
                onChange={(key: ParamKey, v: string) =>
                  setDraft({ ...draft, params: { ...draft.params, [key]: v } })
                }
              />
              <FormActions
                error={error}
                errorTestId="preset-error"
                saving={busy}
                saveLabel="Save preset"
                saveTestId="preset-form-save"
                onCancel={() => setDraft(null)}
              />
            </form>
          )}
        </div>
      )}
    </div>
  );
});
