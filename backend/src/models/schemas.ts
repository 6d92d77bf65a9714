import { Type, type Static } from 'typebox';

export const Model = Type.Object({
  id: Type.String(),
  name: Type.String(),
  description: Type.String(),
  contextLength: Type.Union([Type.Integer(), Type.Null()]),
  pricing: Type.Object({
    prompt: Type.String({ description: 'USD per input token' }),
    completion: Type.String({ description: 'USD per output token' }),
  }),
  inputModalities: Type.Array(Type.String()),
  outputModalities: Type.Array(Type.String()),
  supportedParameters: Type.Array(Type.String()),
});
export type Model = Static<typeof Model>;

export const ModelCatalog = Type.Object({
  models: Type.Array(Model),
  fetchedAt: Type.Union([Type.String({ format: 'date-time' }), Type.Null()]),
  stale: Type.Boolean({
    description: 'True when upstream could not be reached and the cached copy is served',
  }),
});
export type ModelCatalog = Static<typeof ModelCatalog>;

const ModelId = Type.String({ minLength: 1, maxLength: 200, pattern: '^[^\\s]+$' });

export const ModelPreferences = Type.Object({
  favorites: Type.Array(Type.String(), {
    description: 'Starred model ids, oldest star first: the picker lists them first',
  }),
  defaultModel: Type.Union([Type.String(), Type.Null()], {
    description: 'The model of new conversations (created without one); null: none chosen',
  }),
});
export type ModelPreferences = Static<typeof ModelPreferences>;

export const FavoriteBody = Type.Object(
  {
    modelId: ModelId,
    favorite: Type.Boolean({ description: 'true stars the model, false removes the star' }),
  },
  { additionalProperties: false },
);

export const DefaultModelBody = Type.Object(
  { modelId: Type.Union([ModelId, Type.Null()]) },
  { additionalProperties: false },
);
