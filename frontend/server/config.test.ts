import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from './config.js';
import { makeStaticDir } from './test-support/harness.js';

const staticDir = makeStaticDir();

function errorOf(fn: () => unknown): ConfigError {
  try {
    fn();
  } catch (err) {
    if (err instanceof ConfigError) return err;
    throw err;
  }
  throw new Error('expected a ConfigError');
}

describe('loadConfig', () => {
  it('uses the defaults', () => {
    const config = loadConfig({ STATIC_DIR: staticDir.dir });
    expect(config).toMatchObject({
      port: 12016,
      host: '0.0.0.0',
      logLevel: 'info',
      staticDir: staticDir.dir,
    });
    expect(config.backendUrl.href).toBe('http://localhost:12015/');
  });

  it('reads every variable', () => {
    const config = loadConfig({
      PORT: '8080',
      HOST: '127.0.0.1',
      BACKEND_URL: 'http://backend.internal:9000',
      LOG_LEVEL: 'DEBUG',
      STATIC_DIR: staticDir.dir,
    });
    expect(config).toMatchObject({ port: 8080, host: '127.0.0.1', logLevel: 'debug' });
    expect(config.backendUrl.origin).toBe('http://backend.internal:9000');
  });

  it.each([
    ['PORT', 'abc'],
    ['PORT', '70000'],
    ['PORT', '-1'],
    ['BACKEND_URL', 'localhost:12015'],
    ['BACKEND_URL', 'ftp://backend'],
    ['BACKEND_URL', 'http://user:pw@backend'],
    ['LOG_LEVEL', 'loud'],
    ['STATIC_DIR', '/definitely/not/here'],
    ['TRUSTED_PROXIES', 'loopback,not-an-address'],
  ])('rejects %s=%s with a message naming the variable', (name, value) => {
    const err = errorOf(() => loadConfig({ STATIC_DIR: staticDir.dir, [name]: value }));
    expect(err.variable).toBe(name);
    expect(err.message.startsWith(`${name}: `)).toBe(true);
  });

  it('rejects a STATIC_DIR without index.html', () => {
    const err = errorOf(() => loadConfig({ STATIC_DIR: `${staticDir.dir}/assets` }));
    expect(err.variable).toBe('STATIC_DIR');
    expect(err.message).toContain('index.html');
  });
});
