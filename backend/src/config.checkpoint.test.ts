import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from './config.js';

describe('DUCKDB_CHECKPOINT_THRESHOLD', () => {
  it("is unset by default (DuckDB's own 16 MiB) and read as given", () => {
    expect(loadConfig({}).checkpointThreshold).toBeUndefined();
    expect(loadConfig({ DUCKDB_CHECKPOINT_THRESHOLD: '256KB' }).checkpointThreshold).toBe('256KB');
    expect(loadConfig({ DUCKDB_CHECKPOINT_THRESHOLD: '1 MiB' }).checkpointThreshold).toBe('1 MiB');
  });

  it('refuses a size without its unit, which DuckDB would refuse at open', () => {
    for (const value of ['1024', 'big', '-1KB', '1 KB;DROP']) {
      expect(() => loadConfig({ DUCKDB_CHECKPOINT_THRESHOLD: value })).toThrow(ConfigError);
      expect(() => loadConfig({ DUCKDB_CHECKPOINT_THRESHOLD: value })).toThrow(
        'DUCKDB_CHECKPOINT_THRESHOLD',
      );
    }
  });
});
