import { memo } from 'react';
import type { Model } from '../api/types';
import { CloseIcon, PlusIcon } from './icons';
import { ModelPicker } from './ModelPicker';

/** How many models a comparison sends the question to (the backend's bounds). */
export const COMPARE_MIN = 2;
export const COMPARE_MAX = 4;

interface CompareBarProps {
  /** The models picked, one per slot (null: not picked yet). */
  slots: Array<string | null>;
  onChange: (slots: Array<string | null>) => void;
  onClose: () => void;
  models: Model[];
  loading: boolean;
  error: string | null;
  favorites: readonly string[];
  defaultModel: string | null;
  onToggleFavorite: (modelId: string, favorite: boolean) => void;
  onSetDefault: (modelId: string | null) => void;
}

/** Why the slots cannot be sent as they are, or null when they can. */
export function compareProblem(slots: ReadonlyArray<string | null>): string | null {
  const picked = slots.filter((s): s is string => s !== null);
  if (picked.length < slots.length) return 'Pick a model in each slot.';
  if (picked.length < COMPARE_MIN) return `Pick at least ${COMPARE_MIN} models.`;
  if (new Set(picked).size !== picked.length) return 'Pick a different model in each slot.';
  return null;
}

/**
 * Compare mode, above the message box: 2 to 4 model slots, each the usual model picker
 * (search, filters, prices, favourites). The next question goes to all of them at once.
 */
export const CompareBar = memo(function CompareBar({
  slots,
  onChange,
  onClose,
  models,
  loading,
  error,
  favorites,
  defaultModel,
  onToggleFavorite,
  onSetDefault,
}: CompareBarProps) {
  const problem = compareProblem(slots);
  return (
    <div className="compare-bar" data-testid="compare-bar" role="group" aria-label="Compare models">
      <span className="compare-bar-label">Compare</span>
      {slots.map((value, index) => (
        <span key={index} className="compare-slot" data-testid="compare-slot">
          <ModelPicker
            models={models}
            value={value}
            onChange={(id) => onChange(slots.map((s, i) => (i === index ? id : s)))}
            loading={loading}
            error={error}
            favorites={favorites}
            defaultModel={defaultModel}
            onToggleFavorite={onToggleFavorite}
            onSetDefault={onSetDefault}
            testId={`compare-model-${index + 1}`}
            ariaLabel={`Model ${index + 1} of the comparison`}
          />
          {slots.length > COMPARE_MIN && (
            <button
              type="button"
              className="icon-button small"
              data-testid="compare-remove"
              aria-label={`Remove model ${index + 1}`}
              title="Remove"
              onClick={() => onChange(slots.filter((_, i) => i !== index))}
            >
              <CloseIcon width={14} height={14} />
            </button>
          )}
        </span>
      ))}
      {slots.length < COMPARE_MAX && (
        <button
          type="button"
          className="button small ghost"
          data-testid="compare-add"
          aria-label="Add a model"
          title="Add a model"
          onClick={() => onChange([...slots, null])}
        >
          <PlusIcon width={14} height={14} /> Add
        </button>
      )}
      {problem && (
        <span className="compare-problem" data-testid="compare-problem" role="status">
          {problem}
        </span>
      )}
      <button
        type="button"
        className="icon-button small compare-close"
        data-testid="compare-close"
        aria-label="Leave compare mode"
        title="Leave compare mode"
        onClick={onClose}
      >
        <CloseIcon width={16} height={16} />
      </button>
    </div>
  );
});
