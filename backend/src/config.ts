import path from 'node:path';
import proxyaddr from 'proxy-addr';
import { parseSecretKey } from './keys/crypto.js';

/**
 * Configuration, read and validated once at start. Every problem is collected and
 * reported together, each naming its variable, so one failed start shows all of them.
 */
export interface Config {
  port: number;
  host: string;
  databasePath: string;
  openrouterApiKey: string | undefined;
  openrouterBaseUrl: string;
  appUrl: string | undefined;
  appTitle: string;
  logLevel: 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';
  /** How long the cached model catalog is served before a refresh is attempted. */
  modelsTtlSeconds: number;
  /** At shutdown, how long running answers may finish before the rest are saved as interrupted. */
  shutdownGraceMs: number;
  /** Addresses whose X-Forwarded-* are believed (the frontend's network): names or CIDRs. */
  trustedProxies: string[];
  /**
   * DuckDB's checkpoint_threshold, e.g. "16MiB": the WAL size past which a commit also
   * checkpoints. Unset: DuckDB's default (16 MiB). The chaos test sets it tiny, so that
   * nearly every commit checkpoints and kills land inside checkpoints.
   */
  checkpointThreshold: string | undefined;
  /**
   * DuckDB's memory_limit, e.g. "512MB": its buffer pool (cached blocks of the file, query
   * memory; beyond it, large queries spill to disk). Unset: DuckDB's default, 80 % of RAM.
   */
  memoryLimit: string | undefined;
  /** How long the upstream may take to send its response headers (the first byte). */
  upstreamFirstByteTimeoutMs: number;
  /** The longest silence allowed between two reads of a streamed answer (keep-alives count). */
  upstreamIdleTimeoutMs: number;
  /** Retries of a chat request that failed before its first byte (408, 429, 5xx, network). */
  upstreamMaxRetries: number;
  /**
   * How long one database call may hold the connection before /api/health answers 503
   * (and /api/ready not_ready): past it the database counts as stuck, not busy.
   */
  healthDbStuckMs: number;
  /** A session unused this many days expires (SESSION_IDLE_DAYS). */
  sessionIdleDays: number;
  /** A session expires this many days after sign-in, used or not (SESSION_MAX_DAYS). */
  sessionMaxDays: number;
  /** Failed sign-ins allowed per account per minute; past it, 429 with Retry-After. */
  signinFailuresPerAccount: number;
  /** Failed sign-ins allowed per client address per minute. */
  signinFailuresPerAddress: number;
  /**
   * SECRET_KEY: the 32-byte key that encrypts stored secrets (users' OpenRouter keys). Unset:
   * one is generated into the data folder at the first start (keys/secret.ts).
   */
  secretKey: Buffer | undefined;
  /** SECRET_KEY_PREVIOUS: earlier keys, still accepted for decryption after a rotation. */
  secretKeyPrevious: Buffer[];
  /** Audit log entries older than this many days are deleted (hourly); 0 keeps them all. */
  auditRetentionDays: number;
  /** Messages a user may send per minute (429 past it); 0 turns the limit off. */
  chatRateLimitPerMinute: number;
  /** IMPORT_MAX_MB: the largest import file accepted (POST /api/import), in bytes. */
  importMaxBytes: number;
  /**
   * TITLE_MODEL: the (small, cheap) model that names a conversation after its first answer.
   * Unset: no model call; the title stays the one made from the first words of the question.
   */
  titleModel: string | undefined;
  /**
   * Where attached files are stored: `attachments/` next to the database file (one folder per
   * user). Their metadata rows are in the database (attachments/repo.ts).
   */
  attachmentsDir: string;
  /** ATTACHMENT_MAX_MB: the largest file one upload may carry, in bytes. */
  attachmentMaxBytes: number;
  /** ATTACHMENTS_PER_MESSAGE: how many files one message may carry. */
  attachmentsPerMessage: number;
}

const logLevels = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`Invalid configuration:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'ConfigError';
  }
}

type Env = Record<string, string | undefined>;

export function loadConfig(env: Env = process.env): Config {
  const problems: string[] = [];
  const read = (name: string): string | undefined => {
    const value = env[name]?.trim();
    return value === '' ? undefined : value;
  };
  const integer = (name: string, fallback: number, min: number, max: number): number => {
    const raw = read(name);
    if (raw === undefined) return fallback;
    const value = Number(raw);
    if (!Number.isInteger(value) || value < min || value > max) {
      problems.push(`${name} must be an integer from ${min} to ${max}, got "${raw}"`);
      return fallback;
    }
    return value;
  };
  const url = (name: string, fallback: string | undefined): string | undefined => {
    const raw = read(name) ?? fallback;
    if (raw === undefined) return undefined;
    try {
      const parsed = new URL(raw);
      if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') throw new Error('protocol');
      return raw.replace(/\/+$/, '');
    } catch {
      problems.push(`${name} must be an http(s) URL, got "${raw}"`);
      return fallback;
    }
  };

  const logLevel = read('LOG_LEVEL') ?? 'info';
  if (!(logLevels as readonly string[]).includes(logLevel)) {
    problems.push(`LOG_LEVEL must be one of ${logLevels.join(', ')}, got "${logLevel}"`);
  }
  const trustedProxies = (read('TRUSTED_PROXIES') ?? 'loopback,linklocal,uniquelocal')
    .split(',')
    .map((entry) => entry.trim())
    .filter(Boolean);
  try {
    proxyaddr.compile(trustedProxies);
  } catch {
    problems.push(
      `TRUSTED_PROXIES must list addresses, CIDRs or loopback/linklocal/uniquelocal, got "${trustedProxies.join(',')}"`,
    );
  }
  const size = (name: string, example: string): string | undefined => {
    const value = read(name);
    if (value !== undefined && !/^\d+(\.\d+)?\s*(B|bytes|KB|MB|GB|KiB|MiB|GiB)$/i.test(value)) {
      problems.push(`${name} must be a size with its unit, such as ${example}, got "${value}"`);
    }
    return value;
  };
  const checkpointThreshold = size('DUCKDB_CHECKPOINT_THRESHOLD', '16MiB or 256KB');
  const memoryLimit = size('DUCKDB_MEMORY_LIMIT', '512MB or 2GiB');
  const secretKeyText = read('SECRET_KEY');
  const secretKey = secretKeyText === undefined ? undefined : parseSecretKey(secretKeyText);
  if (secretKey === null) {
    // The value itself is never repeated: it is a secret, even when malformed.
    problems.push(
      'SECRET_KEY must be 32 bytes as 64 hex characters or base64 (e.g. openssl rand -base64 32)',
    );
  }
  const secretKeyPrevious = (read('SECRET_KEY_PREVIOUS') ?? '')
    .split(',')
    .map((entry) => entry.trim())
    .filter(Boolean)
    .flatMap((entry, i) => {
      const key = parseSecretKey(entry);
      if (key) return [key];
      problems.push(`SECRET_KEY_PREVIOUS entry ${i + 1} must be 32 bytes as hex or base64`);
      return [];
    });
  const databasePath = read('DATABASE_PATH') ?? 'data/app.db';
  const config: Config = {
    port: integer('PORT', 12015, 0, 65535),
    host: read('HOST') ?? '0.0.0.0',
    databasePath,
    openrouterApiKey: read('OPENROUTER_API_KEY'),
    openrouterBaseUrl: url('OPENROUTER_BASE_URL', 'https://openrouter.ai/api/v1') as string,
    appUrl: url('APP_URL', undefined),
    appTitle: read('APP_TITLE') ?? 'AI',
    logLevel: logLevel as Config['logLevel'],
    modelsTtlSeconds: integer('MODELS_TTL_SECONDS', 3600, 0, 7 * 24 * 3600),
    // An orchestrator's stop timeout must exceed this plus main.ts's 5 s for the final saves.
    shutdownGraceMs: integer('SHUTDOWN_GRACE_MS', 10_000, 0, 10 * 60 * 1000),
    trustedProxies,
    checkpointThreshold,
    memoryLimit,
    upstreamFirstByteTimeoutMs: integer('UPSTREAM_FIRST_BYTE_TIMEOUT_MS', 60_000, 1000, 600_000),
    // Above OpenRouter's keep-alive interval: a thinking model sends comments, not silence.
    upstreamIdleTimeoutMs: integer('UPSTREAM_IDLE_TIMEOUT_MS', 120_000, 1000, 3_600_000),
    upstreamMaxRetries: integer('UPSTREAM_MAX_RETRIES', 2, 0, 10),
    // Well above any chat statement; a backup's EXPORT DATABASE of a large file holds the
    // connection longest (raise it if yours takes longer).
    healthDbStuckMs: integer('HEALTH_DB_STUCK_MS', 60_000, 1000, 3_600_000),
    sessionIdleDays: integer('SESSION_IDLE_DAYS', 7, 1, 365),
    sessionMaxDays: integer('SESSION_MAX_DAYS', 30, 1, 3650),
    signinFailuresPerAccount: integer('SIGNIN_FAILURES_PER_ACCOUNT', 10, 1, 1000),
    signinFailuresPerAddress: integer('SIGNIN_FAILURES_PER_ADDRESS', 50, 1, 100_000),
    secretKey: secretKey ?? undefined,
    secretKeyPrevious,
    auditRetentionDays: integer('AUDIT_RETENTION_DAYS', 365, 0, 36_500),
    chatRateLimitPerMinute: integer('CHAT_RATE_LIMIT_PER_MINUTE', 30, 0, 100_000),
    // The file is parsed in memory: JSON.parse takes several times its size.
    importMaxBytes: integer('IMPORT_MAX_MB', 64, 1, 1024) * 1024 * 1024,
    titleModel: read('TITLE_MODEL'),
    attachmentsDir: path.join(path.dirname(databasePath), 'attachments'),
    // Sent upstream base64-encoded (a third larger), with every attachment of the branch.
    attachmentMaxBytes: integer('ATTACHMENT_MAX_MB', 10, 1, 100) * 1024 * 1024,
    attachmentsPerMessage: integer('ATTACHMENTS_PER_MESSAGE', 10, 1, 50),
  };
  if (config.titleModel !== undefined && !/^[^\s]{1,200}$/.test(config.titleModel)) {
    problems.push(
      `TITLE_MODEL must be a model id (up to 200 characters, no spaces), got "${config.titleModel}"`,
    );
  }
  if (config.sessionIdleDays > config.sessionMaxDays) {
    problems.push(
      `SESSION_IDLE_DAYS (${config.sessionIdleDays}) must not exceed SESSION_MAX_DAYS (${config.sessionMaxDays})`,
    );
  }
  if (problems.length > 0) throw new ConfigError(problems);
  return config;
}
