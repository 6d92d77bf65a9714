import { Type, type Static } from 'typebox';
import { GenerationParams, ModelId, Nullable, SystemPrompt } from '../conversations/schemas.js';

const Timestamp = Type.String({ format: 'date-time' });

/** A preset's name: not blank, at most 100 characters, stored as sent. */
const PresetName = Type.String({ minLength: 1, maxLength: 100, pattern: '\\S' });

/** How many presets one user may keep. */
export const MAX_PRESETS = 200;

/**
 * A saved way to start a conversation: its model, system prompt and parameter overrides.
 * Starting a chat from it copies them into the new conversation (a later change to the preset
 * changes no conversation).
 */
export const Preset = Type.Object({
  id: Type.String(),
  name: Type.String(),
  model: Nullable(Type.String({ description: 'null: the user’s default model' })),
  systemPrompt: Nullable(Type.String()),
  params: GenerationParams,
  createdAt: Timestamp,
  updatedAt: Timestamp,
});
export type Preset = Static<typeof Preset>;

export const PresetList = Type.Object({
  presets: Type.Array(Preset, { description: 'By name (regardless of case), then creation.' }),
});

export const CreatePresetBody = Type.Object(
  {
    name: PresetName,
    model: Type.Optional(Nullable(ModelId)),
    systemPrompt: Type.Optional(Nullable(SystemPrompt)),
    params: Type.Optional(GenerationParams),
  },
  { additionalProperties: false },
);
export type CreatePresetBody = Static<typeof CreatePresetBody>;

export const UpdatePresetBody = Type.Object(
  {
    name: Type.Optional(PresetName),
    model: Type.Optional(Nullable(ModelId)),
    systemPrompt: Type.Optional(Nullable(SystemPrompt)),
    // Replaces every override at once, as for a conversation.
    params: Type.Optional(GenerationParams),
  },
  { additionalProperties: false, minProperties: 1 },
);
export type UpdatePresetBody = Static<typeof UpdatePresetBody>;
