import type { ProviderRouting } from './types.js';

/**
 * A conversation's provider routing as OpenRouter's `provider` request object (snake_case, as
 * its API reference names the fields); undefined when there is nothing to send, so the request
 * keeps OpenRouter's default routing.
 */
export function providerBody(
  routing: ProviderRouting | null | undefined,
): Record<string, unknown> | undefined {
  if (!routing) return undefined;
  const body: Record<string, unknown> = {};
  if (routing.sort !== undefined) body.sort = routing.sort;
  if (routing.order?.length) body.order = routing.order;
  if (routing.only?.length) body.only = routing.only;
  if (routing.ignore?.length) body.ignore = routing.ignore;
  if (routing.allowFallbacks !== undefined) body.allow_fallbacks = routing.allowFallbacks;
  if (routing.dataCollection !== undefined) body.data_collection = routing.dataCollection;
  if (routing.zdr !== undefined) body.zdr = routing.zdr;
  const maxPrice = routing.maxPrice;
  if (maxPrice && (maxPrice.prompt !== undefined || maxPrice.completion !== undefined)) {
    body.max_price = {
      ...(maxPrice.prompt === undefined ? {} : { prompt: maxPrice.prompt }),
      ...(maxPrice.completion === undefined ? {} : { completion: maxPrice.completion }),
    };
  }
  return Object.keys(body).length > 0 ? body : undefined;
}
