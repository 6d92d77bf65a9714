import { memo, useEffect, useId, useMemo, useRef, useState, type KeyboardEvent } from 'react';
import type { Model } from '../api/types';
import { modelPriceLabel } from '../lib/format';
import { ChevronDownIcon } from './icons';

interface ModelPickerProps {
  models: Model[];
  value: string | null;
  onChange: (modelId: string) => void;
  loading: boolean;
  error: string | null;
}

function matches(model: Model, words: string[]): boolean {
  const haystack = `${model.name} ${model.id}`.toLowerCase();
  return words.every((w) => haystack.includes(w));
}

/** A searchable select of the backend's models, with their price per million tokens. */
export const ModelPicker = memo(function ModelPicker({
  models,
  value,
  onChange,
  loading,
  error,
}: ModelPickerProps) {
  const [open, setOpen] = useState(false);
  const [query, setQuery] = useState('');
  const [active, setActive] = useState(0);
  const rootRef = useRef<HTMLDivElement>(null);
  const listRef = useRef<HTMLUListElement>(null);
  const listId = useId();

  const selected = models.find((m) => m.id === value);
  const filtered = useMemo(() => {
    const words = query.toLowerCase().split(/\s+/).filter(Boolean);
    return words.length === 0 ? models : models.filter((m) => matches(m, words));
  }, [models, query]);

  useEffect(() => {
    if (!open) return;
    const onPointer = (event: PointerEvent) => {
      if (!rootRef.current?.contains(event.target as Node)) setOpen(false);
    };
    document.addEventListener('pointerdown', onPointer);
    return () => document.removeEventListener('pointerdown', onPointer);
  }, [open]);

  useEffect(() => {
    if (!open) return;
    const el = listRef.current?.querySelector<HTMLElement>(`[data-index="${active}"]`);
    el?.scrollIntoView({ block: 'nearest' });
  }, [active, open]);

  function openPicker() {
    setQuery('');
    const index = models.findIndex((m) => m.id === value);
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

  let label = 'Choose a model';
  if (selected) label = selected.name;
  else if (value) label = value;
  else if (loading) label = 'Loading models…';
  else if (error) label = 'Models unavailable';

  return (
    <div className="model-picker" ref={rootRef}>
      <button
        type="button"
        className="model-trigger"
        data-testid="model-picker"
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
            placeholder="Search models"
            autoFocus
            role="combobox"
            aria-expanded="true"
            aria-controls={listId}
            aria-activedescendant={filtered[active] ? `${listId}-${active}` : undefined}
            value={query}
            onChange={(e) => {
              setQuery(e.target.value);
              setActive(0);
            }}
            onKeyDown={onKeyDown}
          />
          <ul className="model-list" role="listbox" id={listId} ref={listRef}>
            {filtered.length === 0 && (
              <li className="model-empty">
                {error ?? (models.length === 0 ? 'No models available.' : 'No model matches.')}
              </li>
            )}
            {filtered.map((model, index) => (
              <li
                key={model.id}
                id={`${listId}-${index}`}
                data-index={index}
                data-testid="model-option"
                data-model-id={model.id}
                role="option"
                aria-selected={model.id === value}
                className={`model-option${index === active ? ' active' : ''}`}
                onPointerEnter={() => setActive(index)}
                onClick={() => choose(model)}
              >
                <span className="model-option-main">
                  <span className="model-option-name">{model.name}</span>
                  <span className="model-option-id">{model.id}</span>
                </span>
                <span className="model-option-price">{modelPriceLabel(model)}</span>
              </li>
            ))}
          </ul>
        </div>
      )}
    </div>
  );
});
