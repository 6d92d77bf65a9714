import { useCallback, useEffect, useMemo, useState } from 'react';
import { api } from '../api/client';
import type { Folder } from '../api/types';
import { errorText } from '../lib/errors';

export interface Folders {
  items: Folder[];
  error: string | null;
  create: (name: string) => Promise<Folder>;
  rename: (id: string, name: string) => Promise<void>;
  remove: (id: string) => Promise<void>;
}

const byName = (a: Folder, b: Folder) =>
  a.name < b.name ? -1 : a.name > b.name ? 1 : a.createdAt < b.createdAt ? -1 : 1;

/** The user's folders, loaded once, kept by name. */
export function useFolders(): Folders {
  const [items, setItems] = useState<Folder[]>([]);
  const [error, setError] = useState<string | null>(null);

  useEffect(() => {
    let live = true;
    api.folders().then(
      (res) => live && setItems(res.folders),
      (err: unknown) => live && setError(errorText(err)),
    );
    return () => {
      live = false;
    };
  }, []);

  const create = useCallback(async (name: string) => {
    const folder = await api.createFolder(name);
    setItems((prev) => [...prev, folder].sort(byName));
    return folder;
  }, []);

  const rename = useCallback(async (id: string, name: string) => {
    const folder = await api.renameFolder(id, name);
    setItems((prev) => prev.map((f) => (f.id === id ? folder : f)).sort(byName));
  }, []);

  const remove = useCallback(async (id: string) => {
    await api.deleteFolder(id);
    setItems((prev) => prev.filter((f) => f.id !== id));
  }, []);

  return useMemo(
    () => ({ items, error, create, rename, remove }),
    [items, error, create, rename, remove],
  );
}
