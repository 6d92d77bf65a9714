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
