import { Type, type Static } from 'typebox';

const Timestamp = Type.String({ format: 'date-time' });

/** A folder's name: not blank, stored as sent. */
const FolderName = Type.String({ minLength: 1, maxLength: 100, pattern: '\\S' });

export const Folder = Type.Object({
  id: Type.String(),
  name: Type.String(),
  createdAt: Timestamp,
  updatedAt: Timestamp,
});
export type Folder = Static<typeof Folder>;

export const FolderList = Type.Object({
  folders: Type.Array(Folder, { description: 'By name, then creation.' }),
});

export const FolderBody = Type.Object({ name: FolderName }, { additionalProperties: false });

/** How many folders one user may have. */
export const MAX_FOLDERS = 200;
