import { Type } from 'typebox';

/** The one error shape every 4xx/5xx answer has. */
export const ErrorResponse = Type.Object({
  error: Type.Object({
    code: Type.String({ description: 'Stable machine-readable code, e.g. conversation.not_found' }),
    message: Type.String({ description: 'Safe, human-readable explanation' }),
  }),
});

export const IdParams = Type.Object({ id: Type.String({ format: 'uuid' }) });

/** Common error responses, to spread into a route's `response` schema. */
export const errorResponses = {
  400: ErrorResponse,
  401: ErrorResponse,
  404: ErrorResponse,
} as const;
