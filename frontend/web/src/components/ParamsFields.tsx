import type { Model } from '../api/types';
import {
  PARAM_SPECS,
  REASONING_EFFORTS,
  unsupportedParams,
  type ParamKey,
  type ParamsForm,
} from '../lib/params';

interface ParamsFieldsProps {
  form: ParamsForm;
  onChange: (key: ParamKey, value: string) => void;
  /** The model the overrides go to: those it does not take are greyed, with a note. */
  model: Model | undefined;
  /** Prefix of the fields' test ids (the prompt popover and the preset form both show them). */
  idPrefix: string;
}

/**
 * Temperature, top P, max tokens and reasoning effort; blank keeps the model's default. An
 * override the chosen model's catalog entry does not list is greyed and says it is not sent
 * (it stays editable: it is kept, and sent again with a model that takes it).
 */
export function ParamsFields({ form, onChange, model, idPrefix }: ParamsFieldsProps) {
  const unsupported = unsupportedParams(model);
  return (
    <div className="params-fields">
      {PARAM_SPECS.map((spec) => {
        const off = unsupported.has(spec.key);
        const id = `${idPrefix}-${spec.key}`;
        return (
          <label
            key={spec.key}
            className={`field param-field${off ? ' unsupported' : ''}`}
            data-testid={`${id}-field`}
            data-unsupported={off ? 'true' : undefined}
          >
            <span>
              {spec.label}
              {spec.hint && <span className="muted small"> ({spec.hint})</span>}
            </span>
            {spec.key === 'reasoningEffort' ? (
              <select
                data-testid={id}
                value={form.reasoningEffort}
                onChange={(e) => onChange('reasoningEffort', e.target.value)}
              >
                <option value="">Model default</option>
                {REASONING_EFFORTS.map((effort) => (
                  <option key={effort} value={effort}>
                    {effort}
                  </option>
                ))}
              </select>
            ) : (
              <input
                data-testid={id}
                inputMode={spec.key === 'maxTokens' ? 'numeric' : 'decimal'}
                placeholder="Model default"
                value={form[spec.key]}
                onChange={(e) => onChange(spec.key, e.target.value)}
              />
            )}
            {off && (
              <span className="param-note" data-testid={`${id}-note`}>
                {model?.name ?? 'This model'} does not support it: not sent.
              </span>
            )}
          </label>
        );
      })}
    </div>
  );
}
