import { memo, useEffect, useId, useMemo, useRef, useState, type KeyboardEvent } from 'react';
import type { Model } from '../api/types';
import { modelPriceLabel } from '../lib/format';
import {
  activeFilterCount,
  contextLabel,
  NO_FILTERS,
  pickerList,
  type ModelFilters,
} from '../lib/modelFilter';
import { ChevronDownIcon } from './icons';
import { useDismiss } from '../lib/useDismiss';

interface ModelPickerProps {
  models: Model[];
  value: string | null;
  onChange: (modelId: string) => void;
  loading: boolean;
  error: string | null;
  /** Starred model ids: listed first. */
  favorites: readonly string[];
  /** The user's default model (of new conversations). */
  defaultModel: string | null;
  onToggleFavorite: (modelId: string, favorite: boolean) => void;
  onSetDefault: (modelId: string | null) => void;
  /** The trigger's test id (default `model-picker`): a second picker on the page has its own. */
  testId?: string;
  /** Names the trigger for assistive technology (e.g. "Model 2 of the comparison"). */
  ariaLabel?: string;
}

const CONTEXT_CHOICES = [8_000, 32_000, 128_000, 200_000, 1_000_000];

/** A price limit typed by the user: a non-negative number, or null when empty or unreadable. */
function priceLimit(text: string): number | null {
  if (text.trim() === '') return null;
  const n = Number(text);
  return Number.isFinite(n) && n >= 0 ? n : null;
}

type Toggle = 'freeOnly' | 'image' | 'file' | 'tools' | 'reasoning';
const TOGGLES: { key: Toggle; label: string }[] = [
  { key: 'freeOnly', label: 'Free' },
  { key: 'image', label: 'Image input' },
  { key: 'file', label: 'File input' },
  { key: 'tools', label: 'Tools' },
  { key: 'reasoning', label: 'Reasoning' },
];

/**
 * A searchable, filterable select of the backend's models, with their price per million tokens
 * and context length; favourites first, each starrable, and the user's default model marked.
 * Filtering runs here over the whole catalog (hundreds of models).
 */
export const ModelPicker = memo(function ModelPicker({
  models,
  value,
  onChange,
  loading,
  error,
  favorites,
  defaultModel,
  onToggleFavorite,
  onSetDefault,
  testId = 'model-picker',
  ariaLabel,
}: ModelPickerProps) {
  const [open, setOpen] = useState(false);
  const [filters, setFilters] = useState<ModelFilters>(NO_FILTERS);
  const [promptText, setPromptText] = useState('');
  const [completionText, setCompletionText] = useState('');
  const [active, setActive] = useState(0);
  const rootRef = useRef<HTMLDivElement>(null);
  const listRef = useRef<HTMLUListElement>(null);
  const listId = useId();

  const selected = models.find((m) => m.id === value);
  const starred = useMemo(() => new Set(favorites), [favorites]);
  const filtered = useMemo(
    () => pickerList(models, filters, favorites),
    [models, filters, favorites],
  );

  useDismiss(open, setOpen, rootRef);

  useEffect(() => {
    if (!open) return;
    const el = listRef.current?.querySelector<HTMLElement>(`[data-index="${active}"]`);
    el?.scrollIntoView({ block: 'nearest' });
  }, [active, open]);

  function update(change: Partial<ModelFilters>) {
    setFilters((prev) => ({ ...prev, ...change }));
    setActive(0);
  }

  function openPicker() {
    update({ query: '' });
    const index = pickerList(models, { ...filters, query: '' }, favorites).findIndex(
      (m) => m.id === value,
    );
    setActive(index >= 0 ? index : 0);
    setOpen(true);
  }

  function choose(model: Model | undefined) {
    if (!model) return;
    onChange(model.id);
    setOpen(false);
  }

  function onKeyDown(event: KeyboardEvent<HTMLInputElement>) {
    if (event.key === 'ArrowDown') {
      event.preventDefault();
      setActive((i) => Math.min(i + 1, filtered.length - 1));
    } else if (event.key === 'ArrowUp') {
      event.preventDefault();
      setActive((i) => Math.max(i - 1, 0));
    } else if (event.key === 'Enter') {
      event.preventDefault();
      choose(filtered[active]);
    } else if (event.key === 'Escape') {
      event.preventDefault();
      setOpen(false);
    }
  }

  function clearFilters() {
    setFilters((prev) => ({ ...NO_FILTERS, query: prev.query }));
    setPromptText('');
    setCompletionText('');
    setActive(0);
  }

  let label = 'Choose a model';
  if (selected) label = selected.name;
  else if (value) label = value;
  else if (loading) label = 'Loading models…';
  else if (error) label = 'Models unavailable';

  const filterCount = activeFilterCount(filters);

  return (
    <div className="model-picker" ref={rootRef}>
      <button
        type="button"
        className="model-trigger"
        data-testid={testId}
        aria-label={ariaLabel ? `${ariaLabel}: ${label}` : undefined}
        aria-haspopup="listbox"
        aria-expanded={open}
        title={error ?? selected?.id ?? undefined}
        onClick={() => (open ? setOpen(false) : openPicker())}
      >
        <span className="model-trigger-name">{label}</span>
        <ChevronDownIcon width={16} height={16} />
      </button>
      {open && (
        <div className="model-popover">
          <input
            className="model-search"
            data-testid="model-search"
            placeholder="Search models by name or id"
            autoFocus
            role="combobox"
            aria-expanded="true"
            aria-controls={listId}
            aria-activedescendant={filtered[active] ? `${listId}-${active}` : undefined}
            value={filters.query}
            onChange={(e) => update({ query: e.target.value })}
            onKeyDown={onKeyDown}
          />
          <div className="model-filters" role="group" aria-label="Filters">
            {TOGGLES.map(({ key, label: text }) => (
              <button
                key={key}
                type="button"
                className={`chip${filters[key] ? ' on' : ''}`}
                aria-pressed={filters[key]}
                data-testid={`model-filter-${key}`}
                onClick={() => update({ [key]: !filters[key] })}
              >
                {text}
              </button>
            ))}
            <select
              className="chip-select"
              aria-label="Minimum context length"
              data-testid="model-filter-context"
              value={filters.minContext ?? ''}
              onChange={(e) =>
                update({ minContext: e.target.value === '' ? null : Number(e.target.value) })
              }
            >
              <option value="">Any context</option>
              {CONTEXT_CHOICES.map((n) => (
                <option key={n} value={n}>
                  ≥ {contextLabel(n)} context
                </option>
              ))}
            </select>
            <label className="chip-price">
              <span>In ≤ $</span>
              <input
                inputMode="decimal"
                aria-label="Maximum input price, USD per million tokens"
                data-testid="model-filter-max-input"
                placeholder="any"
                value={promptText}
                onChange={(e) => {
                  setPromptText(e.target.value);
                  update({ maxPromptPrice: priceLimit(e.target.value) });
                }}
              />
              <span>/M</span>
            </label>
            <label className="chip-price">
              <span>Out ≤ $</span>
              <input
                inputMode="decimal"
                aria-label="Maximum output price, USD per million tokens"
                data-testid="model-filter-max-output"
                placeholder="any"
                value={completionText}
                onChange={(e) => {
                  setCompletionText(e.target.value);
                  update({ maxCompletionPrice: priceLimit(e.target.value) });
                }}
              />
              <span>/M</span>
            </label>
          </div>
          <div className="model-count" data-testid="model-count">
            {filtered.length} of {models.length} models
            {filterCount > 0 && (
              <button type="button" className="link-button" onClick={clearFilters}>
                Clear filters
              </button>
            )}
          </div>
          <ul className="model-list" role="listbox" id={listId} ref={listRef}>
            {filtered.length === 0 && (
              <li className="model-empty">
                {error ?? (models.length === 0 ? 'No models available.' : 'No model matches.')}
              </li>
            )}
            {filtered.map((model, index) => {
              const isFavorite = starred.has(model.id);
              const isDefault = model.id === defaultModel;
              return (
                <li
                  key={model.id}
                  id={`${listId}-${index}`}
                  data-index={index}
                  data-testid="model-option"
                  data-model-id={model.id}
                  data-favorite={isFavorite}
                  role="option"
                  aria-selected={model.id === value}
                  className={`model-option${index === active ? ' active' : ''}`}
                  onPointerEnter={() => setActive(index)}
                  onClick={() => choose(model)}
                >
                  <button
                    type="button"
                    className={`star-button${isFavorite ? ' on' : ''}`}
                    data-testid="model-favorite"
                    aria-pressed={isFavorite}
                    aria-label={isFavorite ? `Unstar ${model.name}` : `Star ${model.name}`}
                    title={isFavorite ? 'Remove from favourites' : 'Add to favourites'}
                    onClick={(e) => {
                      e.stopPropagation();
                      onToggleFavorite(model.id, !isFavorite);
                    }}
                  >
                    {isFavorite ? '★' : '☆'}
                  </button>
                  <span className="model-option-main">
                    <span className="model-option-name">{model.name}</span>
                    <span className="model-option-id">
                      {model.id}
                      {isDefault && (
                        <span className="model-default-badge" data-testid="model-default-badge">
                          default
                        </span>
                      )}
                    </span>
                  </span>
                  <span className="model-option-figures">
                    <span className="model-option-price" data-testid="model-price">
                      {modelPriceLabel(model)}
                    </span>
                    <span className="model-option-context" data-testid="model-context">
                      {contextLabel(model.contextLength)} context
                    </span>
                    <button
                      type="button"
                      className="link-button"
                      data-testid="model-set-default"
                      onClick={(e) => {
                        e.stopPropagation();
                        onSetDefault(isDefault ? null : model.id);
                      }}
                    >
                      {isDefault ? 'Unset default' : 'Make default'}
                    </button>
                  </span>
                </li>
              );
            })}
          </ul>
        </div>
      )}
    </div>
  );
});
