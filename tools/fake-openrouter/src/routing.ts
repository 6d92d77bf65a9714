/**
 * OpenRouter's provider routing, faked: every model is served by a few FAKE endpoints (providers)
 * that differ in price, throughput, latency and data policy, and the request's `provider` object
 * (https://openrouter.ai/docs/features/provider-routing) picks one the way OpenRouter documents:
 * `only` / `ignore` filter by slug, `data_collection: "deny"` and `zdr: true` keep the endpoints
 * that store nothing, `max_price` (USD per million tokens) drops the dearer ones, `order` comes
 * first, then `sort` (price, throughput, latency). Without preferences the model's first endpoint
 * (the one `providerFor` names) serves, so requests without `provider` answer as before.
 */
import { errorBody, type ErrorBody } from './errors.js';
import { providerFor, type FakeModelPricing } from './models.js';

export interface FakeEndpoint {
  /** The provider's name as chunks carry it in `provider`. */
  name: string;
  /** How provider preferences name it (`only`, `ignore`, `order`); the name is accepted too. */
  slug: string;
  /** Its prices are the model's catalog prices times this. */
  priceFactor: number;
  /** Tokens per second. */
  throughput: number;
  /** Milliseconds to the first token. */
  latency: number;
  /** `deny`: it neither stores nor trains on prompts. */
  dataCollection: 'allow' | 'deny';
  /** Zero Data Retention. */
  zdr: boolean;
}

/** The endpoints every model has besides its own provider's; all FAKE. */
const SHARED_ENDPOINTS: FakeEndpoint[] = [
  {
    name: 'Fake Budget',
    slug: 'fake-budget',
    priceFactor: 0.5,
    throughput: 20,
    latency: 1500,
    dataCollection: 'allow',
    zdr: false,
  },
  {
    name: 'Fake Turbo',
    slug: 'fake-turbo',
    priceFactor: 2,
    throughput: 300,
    latency: 400,
    dataCollection: 'allow',
    zdr: false,
  },
  {
    name: 'Fake Vault',
    slug: 'fake-vault',
    priceFactor: 1.5,
    throughput: 45,
    latency: 150,
    dataCollection: 'deny',
    zdr: true,
  },
];

/** The endpoints serving a model, its own provider first (the default route). */
export function endpointsFor(modelId: string): FakeEndpoint[] {
  const name = providerFor(modelId);
  return [
    {
      name,
      slug: name.toLowerCase().replace(/[^a-z0-9]+/g, '-'),
      priceFactor: 1,
      throughput: 60,
      latency: 800,
      dataCollection: 'allow',
      zdr: false,
    },
    ...SHARED_ENDPOINTS,
  ];
}

/** A model's pricing as one endpoint charges it. */
export function endpointPricing(
  pricing: FakeModelPricing,
  endpoint: FakeEndpoint,
): FakeModelPricing {
  if (endpoint.priceFactor === 1) return pricing;
  const scale = (value: string): string =>
    String(Number((Number(value) * endpoint.priceFactor).toPrecision(6)));
  return { ...pricing, prompt: scale(pricing.prompt), completion: scale(pricing.completion) };
}

/** The request's `provider` object, as far as the fake reads it. */
export interface ProviderPreferences {
  order?: string[];
  only?: string[];
  ignore?: string[];
  allow_fallbacks?: boolean;
  data_collection?: 'allow' | 'deny';
  zdr?: boolean;
  sort?: 'price' | 'throughput' | 'latency';
  max_price?: { prompt?: number; completion?: number };
}

const SORTS = new Set(['price', 'throughput', 'latency']);

/** Checks the request's `provider` field; an error body (400) when it is malformed. */
export function parsePreferences(
  value: unknown,
): { preferences: ProviderPreferences | null } | { error: ErrorBody } {
  if (value === undefined || value === null) return { preferences: null };
  const invalid = (what: string) => ({
    error: errorBody(400, `Invalid request: provider.${what}`),
  });
  if (typeof value !== 'object' || Array.isArray(value)) {
    return { error: errorBody(400, 'Invalid request: "provider" must be an object.') };
  }
  const p = value as Record<string, unknown>;
  for (const key of ['order', 'only', 'ignore'] as const) {
    const list = p[key];
    if (list !== undefined && (!Array.isArray(list) || !list.every((s) => typeof s === 'string'))) {
      return invalid(`${key} must be an array of provider slugs.`);
    }
  }
  for (const key of ['allow_fallbacks', 'zdr'] as const) {
    if (p[key] !== undefined && typeof p[key] !== 'boolean')
      return invalid(`${key} must be a boolean.`);
  }
  if (
    p.data_collection !== undefined &&
    p.data_collection !== 'allow' &&
    p.data_collection !== 'deny'
  ) {
    return invalid('data_collection must be "allow" or "deny".');
  }
  // OpenRouter also takes `sort: { by, partition }`; `by` is what orders the endpoints.
  const sort =
    typeof p.sort === 'object' && p.sort !== null ? (p.sort as { by?: unknown }).by : p.sort;
  if (sort !== undefined && (typeof sort !== 'string' || !SORTS.has(sort))) {
    return invalid('sort must be "price", "throughput" or "latency".');
  }
  let maxPrice: ProviderPreferences['max_price'];
  if (p.max_price !== undefined) {
    if (typeof p.max_price !== 'object' || p.max_price === null || Array.isArray(p.max_price)) {
      return invalid('max_price must be an object.');
    }
    maxPrice = {};
    for (const [key, raw] of Object.entries(p.max_price as Record<string, unknown>)) {
      const n = typeof raw === 'string' ? Number(raw) : raw;
      if (typeof n !== 'number' || !Number.isFinite(n) || n < 0) {
        return invalid(`max_price.${key} must be a non-negative number.`);
      }
      if (key === 'prompt' || key === 'completion') maxPrice[key] = n;
    }
  }
  return {
    preferences: {
      ...(p.order === undefined ? {} : { order: p.order as string[] }),
      ...(p.only === undefined ? {} : { only: p.only as string[] }),
      ...(p.ignore === undefined ? {} : { ignore: p.ignore as string[] }),
      ...(p.allow_fallbacks === undefined ? {} : { allow_fallbacks: p.allow_fallbacks as boolean }),
      ...(p.data_collection === undefined
        ? {}
        : { data_collection: p.data_collection as 'allow' | 'deny' }),
      ...(p.zdr === undefined ? {} : { zdr: p.zdr as boolean }),
      ...(sort === undefined ? {} : { sort: sort as ProviderPreferences['sort'] }),
      ...(maxPrice === undefined ? {} : { max_price: maxPrice }),
    },
  };
}

export type Route =
  { endpoint: FakeEndpoint; pricing: FakeModelPricing } | { status: 404; body: ErrorBody };

/** The endpoint that serves `modelId` under `preferences`, or OpenRouter's 404 when none may. */
export function route(
  modelId: string,
  pricing: FakeModelPricing,
  preferences: ProviderPreferences | null,
): Route {
  const all = endpointsFor(modelId);
  const first = all[0] as FakeEndpoint;
  if (preferences === null) return { endpoint: first, pricing };
  const named = (list: string[] | undefined) => {
    const wanted = new Set((list ?? []).map((s) => s.toLowerCase()));
    return (e: FakeEndpoint) => wanted.has(e.slug) || wanted.has(e.name.toLowerCase());
  };

  let candidates = all;
  if (preferences.only !== undefined) candidates = candidates.filter(named(preferences.only));
  if (preferences.ignore !== undefined) {
    const ignored = named(preferences.ignore);
    candidates = candidates.filter((e) => !ignored(e));
  }
  if (preferences.order !== undefined && preferences.allow_fallbacks === false) {
    candidates = candidates.filter(named(preferences.order));
  }
  if (candidates.length === 0) {
    return {
      status: 404,
      body: errorBody(404, 'No allowed providers are available for the selected model.', {
        available_providers: all.map((e) => e.slug),
        requested_providers: preferences.only ?? preferences.order ?? [],
      }),
    };
  }
  if (preferences.data_collection === 'deny') {
    candidates = candidates.filter((e) => e.dataCollection === 'deny');
  }
  if (preferences.zdr === true) candidates = candidates.filter((e) => e.zdr);
  if (candidates.length === 0) {
    return {
      status: 404,
      body: errorBody(
        404,
        'No endpoints found matching your data policy. Check your settings: https://openrouter.ai/settings/privacy',
      ),
    };
  }
  const max = preferences.max_price;
  if (max !== undefined) {
    candidates = candidates.filter((e) => {
      const p = endpointPricing(pricing, e);
      return (
        (max.prompt === undefined || Number(p.prompt) * 1e6 <= max.prompt + 1e-9) &&
        (max.completion === undefined || Number(p.completion) * 1e6 <= max.completion + 1e-9)
      );
    });
    if (candidates.length === 0) {
      return {
        status: 404,
        body: errorBody(404, 'No endpoints found matching your max_price for the selected model.'),
      };
    }
  }

  const sorted = [...candidates];
  const sort = preferences.sort;
  if (sort === 'price') {
    const cost = (e: FakeEndpoint) => {
      const p = endpointPricing(pricing, e);
      return Number(p.prompt) + Number(p.completion);
    };
    sorted.sort((a, b) => cost(a) - cost(b));
  } else if (sort === 'throughput') {
    sorted.sort((a, b) => b.throughput - a.throughput);
  } else if (sort === 'latency') {
    sorted.sort((a, b) => a.latency - b.latency);
  }
  // `order` first, in its order; the rest (when fallbacks are allowed) as sorted.
  const ordered = (preferences.order ?? [])
    .map((slug) => sorted.find((e) => named([slug])(e)))
    .filter((e): e is FakeEndpoint => e !== undefined);
  const endpoint = ordered[0] ?? (sorted[0] as FakeEndpoint);
  return { endpoint, pricing: endpointPricing(pricing, endpoint) };
}
