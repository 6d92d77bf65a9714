import { memo, useState, type FormEvent } from 'react';
import type { Model, ProviderRouting } from '../api/types';
import { usePopover } from '../lib/usePopover';
import { FormActions } from './FormActions';

export interface RoutingSettings {
  fallbackModels: string[];
  providerRouting: ProviderRouting | null;
}

interface ConversationSettingsProps {
  models: Model[];
  value: RoutingSettings;
  /** Saves the settings; rejects with the API's error, shown in the form. */
  onSave: (value: RoutingSettings) => Promise<void>;
}

const MAX_FALLBACKS = 3;

/** "openai, deepinfra anthropic" → ["openai", "deepinfra", "anthropic"]. */
function slugs(text: string): string[] {
  return text.split(/[\s,]+/).filter(Boolean);
}

function priceOf(text: string): number | undefined {
  return text.trim() === '' ? undefined : Number(text);
}

interface FormState {
  fallbacks: string[];
  sort: '' | 'price' | 'throughput' | 'latency';
  order: string;
  only: string;
  ignore: string;
  allowFallbacks: boolean;
  denyDataCollection: boolean;
  zdr: boolean;
  maxPrompt: string;
  maxCompletion: string;
}

function formOf(value: RoutingSettings): FormState {
  const r = value.providerRouting ?? {};
  return {
    fallbacks: [...value.fallbackModels],
    sort: r.sort ?? '',
    order: (r.order ?? []).join(', '),
    only: (r.only ?? []).join(', '),
    ignore: (r.ignore ?? []).join(', '),
    allowFallbacks: r.allowFallbacks ?? true,
    denyDataCollection: r.dataCollection === 'deny',
    zdr: r.zdr ?? false,
    maxPrompt: r.maxPrice?.prompt === undefined ? '' : String(r.maxPrice.prompt),
    maxCompletion: r.maxPrice?.completion === undefined ? '' : String(r.maxPrice.completion),
  };
}

/** The form as the API's body: only what is set; null routing when nothing is. */
function settingsOf(form: FormState): RoutingSettings {
  const routing: ProviderRouting = {};
  if (form.sort !== '') routing.sort = form.sort;
  const order = slugs(form.order);
  const only = slugs(form.only);
  const ignore = slugs(form.ignore);
  if (order.length > 0) routing.order = order;
  if (only.length > 0) routing.only = only;
  if (ignore.length > 0) routing.ignore = ignore;
  if (!form.allowFallbacks) routing.allowFallbacks = false;
  if (form.denyDataCollection) routing.dataCollection = 'deny';
  if (form.zdr) routing.zdr = true;
  const prompt = priceOf(form.maxPrompt);
  const completion = priceOf(form.maxCompletion);
  if (prompt !== undefined || completion !== undefined) {
    routing.maxPrice = {
      ...(prompt === undefined ? {} : { prompt }),
      ...(completion === undefined ? {} : { completion }),
    };
  }
  return {
    fallbackModels: [...new Set(form.fallbacks.filter(Boolean))],
    providerRouting: Object.keys(routing).length > 0 ? routing : null,
  };
}

/**
 * A conversation's fallback models (tried in order when its model fails) and its provider
 * routing (OpenRouter's `provider` options), in a popover from the top bar.
 */
export const ConversationSettings = memo(function ConversationSettings({
  models,
  value,
  onSave,
}: ConversationSettingsProps) {
  const [form, setForm] = useState<FormState>(() => formOf(value));
  const popover = usePopover(() => setForm(formOf(value)));
  const { open, rootRef, openerRef, error, busy: saving } = popover;

  function set<K extends keyof FormState>(key: K, v: FormState[K]) {
    setForm((prev) => ({ ...prev, [key]: v }));
  }

  function submit(event: FormEvent) {
    event.preventDefault();
    for (const [text, what] of [
      [form.maxPrompt, 'input'],
      [form.maxCompletion, 'output'],
    ] as const) {
      const n = priceOf(text);
      if (n !== undefined && !(Number.isFinite(n) && n >= 0)) {
        popover.setError(`The maximum ${what} price must be a number of dollars, 0 or more.`);
        return;
      }
    }
    void popover.run(async () => {
      await onSave(settingsOf(form));
      popover.close();
    });
  }

  const routed = value.providerRouting !== null || value.fallbackModels.length > 0;
  const fallbackSlots = Array.from({ length: MAX_FALLBACKS }, (_, i) => form.fallbacks[i] ?? '');

  return (
    <div className="settings-wrap" ref={rootRef}>
      <button
        type="button"
        className={`settings-button${routed ? ' on' : ''}`}
        ref={openerRef}
        data-testid="conversation-settings"
        aria-expanded={open}
        onClick={popover.toggle}
      >
        Routing{routed ? ' · on' : ''}
      </button>
      {open && (
        <form className="settings-popover" data-testid="routing-form" onSubmit={submit}>
          <h3>Fallback models</h3>
          <p className="small muted">Tried in order when the model fails before answering.</p>
          {fallbackSlots.map((current, i) => (
            <label key={i} className="field">
              <span>Fallback {i + 1}</span>
              <select
                data-testid={`fallback-${i}`}
                value={current}
                onChange={(e) => {
                  const next = [...fallbackSlots];
                  next[i] = e.target.value;
                  set('fallbacks', next);
                }}
              >
                <option value="">None</option>
                {current !== '' && !models.some((m) => m.id === current) && (
                  <option value={current}>{current}</option>
                )}
                {models.map((m) => (
                  <option key={m.id} value={m.id}>
                    {m.name}
                  </option>
                ))}
              </select>
            </label>
          ))}

          <h3>Providers</h3>
          <label className="field">
            <span>Sort providers by</span>
            <select
              data-testid="routing-sort"
              value={form.sort}
              onChange={(e) => set('sort', e.target.value as FormState['sort'])}
            >
              <option value="">OpenRouter&apos;s default (balanced)</option>
              <option value="price">Lowest price</option>
              <option value="throughput">Highest throughput</option>
              <option value="latency">Lowest latency</option>
            </select>
          </label>
          <label className="field">
            <span>Try first, in order (provider slugs)</span>
            <input
              data-testid="routing-order"
              placeholder="e.g. openai, deepinfra"
              value={form.order}
              onChange={(e) => set('order', e.target.value)}
            />
          </label>
          <label className="field">
            <span>Only these providers</span>
            <input
              data-testid="routing-only"
              placeholder="any"
              value={form.only}
              onChange={(e) => set('only', e.target.value)}
            />
          </label>
          <label className="field">
            <span>Never these providers</span>
            <input
              data-testid="routing-ignore"
              placeholder="none"
              value={form.ignore}
              onChange={(e) => set('ignore', e.target.value)}
            />
          </label>
          <label className="checkbox">
            <input
              type="checkbox"
              data-testid="routing-allow-fallbacks"
              checked={form.allowFallbacks}
              onChange={(e) => set('allowFallbacks', e.target.checked)}
            />
            Other providers when these fail
          </label>
          <label className="checkbox">
            <input
              type="checkbox"
              data-testid="routing-deny-data-collection"
              checked={form.denyDataCollection}
              onChange={(e) => set('denyDataCollection', e.target.checked)}
            />
            Only providers that do not store or train on prompts
          </label>
          <label className="checkbox">
            <input
              type="checkbox"
              data-testid="routing-zdr"
              checked={form.zdr}
              onChange={(e) => set('zdr', e.target.checked)}
            />
            Only zero-data-retention endpoints
          </label>
          <div className="settings-row">
            <label className="field">
              <span>Max input $ / M tokens</span>
              <input
                inputMode="decimal"
                data-testid="routing-max-prompt"
                placeholder="any"
                value={form.maxPrompt}
                onChange={(e) => set('maxPrompt', e.target.value)}
              />
            </label>
            <label className="field">
              <span>Max output $ / M tokens</span>
              <input
                inputMode="decimal"
                data-testid="routing-max-completion"
                placeholder="any"
                value={form.maxCompletion}
                onChange={(e) => set('maxCompletion', e.target.value)}
              />
            </label>
          </div>
          <FormActions
            error={error}
            errorTestId="routing-error"
            saving={saving}
            saveTestId="routing-save"
            onCancel={popover.close}
          />
        </form>
      )}
    </div>
  );
});
