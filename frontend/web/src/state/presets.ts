import { useCallback, useEffect, useMemo, useState } from 'react';
import { api } from '../api/client';
import type { CreatePresetBody, Preset, UpdatePresetBody } from '../api/types';
import { errorText } from '../lib/errors';

export interface Presets {
  items: Preset[];
  error: string | null;
  create: (body: CreatePresetBody) => Promise<Preset>;
  update: (id: string, body: UpdatePresetBody) => Promise<Preset>;
  remove: (id: string) => Promise<void>;
}

/** By name regardless of case, then creation: as the API lists them. */
const byName = (a: Preset, b: Preset) => {
  const [x, y] = [a.name.toLowerCase(), b.name.toLowerCase()];
  return x < y ? -1 : x > y ? 1 : a.createdAt < b.createdAt ? -1 : 1;
};

/** The user's presets, loaded once, kept by name. */
export function usePresets(): Presets {
  const [items, setItems] = useState<Preset[]>([]);
  const [error, setError] = useState<string | null>(null);

  useEffect(() => {
    let live = true;
    api.presets().then(
      (res) => live && setItems(res.presets),
      (err: unknown) => live && setError(errorText(err)),
    );
    return () => {
      live = false;
    };
  }, []);

  const create = useCallback(async (body: CreatePresetBody) => {
    const preset = await api.createPreset(body);
    setItems((prev) => [...prev, preset].sort(byName));
    return preset;
  }, []);

  const update = useCallback(async (id: string, body: UpdatePresetBody) => {
    const preset = await api.updatePreset(id, body);
    setItems((prev) => prev.map((p) => (p.id === id ? preset : p)).sort(byName));
    return preset;
  }, []);

  const remove = useCallback(async (id: string) => {
    await api.deletePreset(id);
    setItems((prev) => prev.filter((p) => p.id !== id));
  }, []);

  return useMemo(
    () => ({ items, error, create, update, remove }),
    [items, error, create, update, remove],
  );
}
