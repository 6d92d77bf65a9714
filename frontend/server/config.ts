import { existsSync, statSync } from 'node:fs';
import { isAbsolute, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import proxyaddr from 'proxy-addr';

export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

export interface Config {
  port: number;
  host: string;
  /** Origin (and optional base path) of the backend; `/api/...` is appended to its path. */
  backendUrl: URL;
  logLevel: LogLevel;
  /** Folder holding the built SPA (index.html + assets/). */
  staticDir: string;
  /**
   * Addresses whose X-Forwarded-* headers are believed (nginx in front): names such as
   * loopback/uniquelocal, or CIDRs. From anyone else they are dropped and rebuilt.
   */
  trustedProxies: string[];
}

/** A configuration value that cannot be used; the message names the variable. */
export class ConfigError extends Error {
  constructor(
    readonly variable: string,
    message: string,
  ) {
    super(`${variable}: ${message}`);
    this.name = 'ConfigError';
  }
}

/** The built SPA sits next to the server build: dist/server/config.js -> dist/web. */
export function defaultStaticDir(): string {
  return fileURLToPath(new URL('../web/', import.meta.url));
}

type Env = Record<string, string | undefined>;

function value(env: Env, name: string): string | undefined {
  const raw = env[name];
  if (raw === undefined) return undefined;
  const trimmed = raw.trim();
  return trimmed === '' ? undefined : trimmed;
}

function parsePort(env: Env, name: string, fallback: number): number {
  const raw = value(env, name);
  if (raw === undefined) return fallback;
  if (!/^\d+$/.test(raw)) throw new ConfigError(name, `"${raw}" is not a port number (0-65535).`);
  const port = Number(raw);
  if (port > 65535) throw new ConfigError(name, `"${raw}" is not a port number (0-65535).`);
  return port;
}

function parseBackendUrl(env: Env, name: string, fallback: string): URL {
  const raw = value(env, name) ?? fallback;
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new ConfigError(name, `"${raw}" is not an absolute URL (e.g. http://localhost:12015).`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new ConfigError(name, `"${raw}" must use http: or https:.`);
  }
  if (url.search !== '' || url.hash !== '' || url.username !== '' || url.password !== '') {
    throw new ConfigError(name, `"${raw}" must not contain credentials, a query or a fragment.`);
  }
  return url;
}

function parseLogLevel(env: Env, name: string, fallback: LogLevel): LogLevel {
  const raw = value(env, name)?.toLowerCase();
  if (raw === undefined) return fallback;
  const level = LOG_LEVELS.find((l) => l === raw);
  if (level === undefined) {
    throw new ConfigError(name, `"${raw}" is not one of ${LOG_LEVELS.join(', ')}.`);
  }
  return level;
}

function parseStaticDir(env: Env, name: string, fallback: string): string {
  const raw = value(env, name);
  const dir = raw === undefined ? fallback : isAbsolute(raw) ? raw : resolve(raw);
  if (!existsSync(dir) || !statSync(dir).isDirectory()) {
    throw new ConfigError(
      name,
      `"${dir}" is not a directory${raw === undefined ? ' (run `npm run build` first)' : ''}.`,
    );
  }
  if (!existsSync(resolve(dir, 'index.html'))) {
    throw new ConfigError(name, `"${dir}" has no index.html (is it the built SPA?).`);
  }
  return dir;
}

function parseTrustedProxies(env: Env, name: string, fallback: string): string[] {
  const list = (value(env, name) ?? fallback)
    .split(',')
    .map((entry) => entry.trim())
    .filter(Boolean);
  try {
    proxyaddr.compile(list);
  } catch {
    throw new ConfigError(
      name,
      `"${list.join(',')}" is not a list of addresses, CIDRs or loopback/linklocal/uniquelocal.`,
    );
  }
  return list;
}

/** Reads and validates the configuration once; throws ConfigError naming the bad variable. */
export function loadConfig(env: Env = process.env): Config {
  return {
    port: parsePort(env, 'PORT', 12016),
    host: value(env, 'HOST') ?? '0.0.0.0',
    backendUrl: parseBackendUrl(env, 'BACKEND_URL', 'http://localhost:12015'),
    logLevel: parseLogLevel(env, 'LOG_LEVEL', 'info'),
    staticDir: parseStaticDir(env, 'STATIC_DIR', defaultStaticDir()),
    trustedProxies: parseTrustedProxies(env, 'TRUSTED_PROXIES', 'loopback,linklocal,uniquelocal'),
  };
}
