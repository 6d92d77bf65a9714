import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from './config.js';

describe('loadConfig', () => {
  it('has working defaults', () => {
    expect(loadConfig({})).toMatchObject({
      port: 12015,
      databasePath: 'data/app.db',
      openrouterBaseUrl: 'https://openrouter.ai/api/v1',
      openrouterApiKey: undefined,
      logLevel: 'info',
      shutdownGraceMs: 10_000,
      upstreamFirstByteTimeoutMs: 60_000,
      upstreamIdleTimeoutMs: 120_000,
      upstreamMaxRetries: 2,
      healthDbStuckMs: 60_000,
      auditRetentionDays: 365,
    });
  });

  it('reads the audit log retention in days, 0 for forever', () => {
    expect(loadConfig({ AUDIT_RETENTION_DAYS: '90' }).auditRetentionDays).toBe(90);
    expect(loadConfig({ AUDIT_RETENTION_DAYS: '0' }).auditRetentionDays).toBe(0);
    expect(() => loadConfig({ AUDIT_RETENTION_DAYS: 'a year' })).toThrow(/AUDIT_RETENTION_DAYS/);
  });

  it('reads how long a database call may run before health says stuck', () => {
    expect(loadConfig({ HEALTH_DB_STUCK_MS: '30000' }).healthDbStuckMs).toBe(30_000);
  });

  it("reads DuckDB's memory limit, a size with its unit", () => {
    expect(loadConfig({}).memoryLimit).toBeUndefined();
    expect(loadConfig({ DUCKDB_MEMORY_LIMIT: '512MB' }).memoryLimit).toBe('512MB');
    expect(() => loadConfig({ DUCKDB_MEMORY_LIMIT: '512' })).toThrow(/DUCKDB_MEMORY_LIMIT/);
  });

  it('reads the upstream timeouts and retries', () => {
    expect(
      loadConfig({
        UPSTREAM_FIRST_BYTE_TIMEOUT_MS: '5000',
        UPSTREAM_IDLE_TIMEOUT_MS: '30000',
        UPSTREAM_MAX_RETRIES: '0',
      }),
    ).toMatchObject({
      upstreamFirstByteTimeoutMs: 5000,
      upstreamIdleTimeoutMs: 30_000,
      upstreamMaxRetries: 0,
    });
  });

  it('names every bad variable at once', () => {
    const attempt = () =>
      loadConfig({
        PORT: 'eighty',
        OPENROUTER_BASE_URL: 'ftp://x',
        LOG_LEVEL: 'loud',
        APP_URL: 'nope',
        SHUTDOWN_GRACE_MS: '-1',
        TRUSTED_PROXIES: 'loopback,not-an-address',
        UPSTREAM_FIRST_BYTE_TIMEOUT_MS: '10',
        UPSTREAM_IDLE_TIMEOUT_MS: 'soon',
        UPSTREAM_MAX_RETRIES: '11',
        HEALTH_DB_STUCK_MS: '999',
        DUCKDB_CHECKPOINT_THRESHOLD: 'tiny',
        DUCKDB_MEMORY_LIMIT: 'lots',
        AUDIT_RETENTION_DAYS: '-5',
      });
    expect(attempt).toThrow(ConfigError);
    try {
      attempt();
    } catch (error) {
      const problems = (error as ConfigError).problems.join('\n');
      for (const name of [
        'PORT',
        'OPENROUTER_BASE_URL',
        'LOG_LEVEL',
        'APP_URL',
        'SHUTDOWN_GRACE_MS',
        'TRUSTED_PROXIES',
        'UPSTREAM_FIRST_BYTE_TIMEOUT_MS',
        'UPSTREAM_IDLE_TIMEOUT_MS',
        'UPSTREAM_MAX_RETRIES',
        'HEALTH_DB_STUCK_MS',
        'DUCKDB_CHECKPOINT_THRESHOLD',
        'DUCKDB_MEMORY_LIMIT',
        'AUDIT_RETENTION_DAYS',
      ])
        expect(problems).toContain(name);
    }
  });

  it('accepts any OpenAI-compatible base URL and trims the trailing slash', () => {
    expect(loadConfig({ OPENROUTER_BASE_URL: 'http://127.0.0.1:8080/v1/' }).openrouterBaseUrl).toBe(
      'http://127.0.0.1:8080/v1',
    );
  });
});
