import { setFlagsFromString } from 'node:v8';
import { buildServer } from './app.js';
import { ConfigError, loadConfig, type Config } from './config.js';

const SHUTDOWN_GRACE_MS = 10_000;

/**
 * The old generation may grow to 1.5 times what the last full GC kept, not V8's up to 4 times:
 * every proxied stream's objects live long enough to be promoted, and by default the heap swung
 * far above what is live before each full GC. As in the backend's main.ts (docs/benchmarks.md,
 * Findings 7). V8 reads the flag whenever it sets the next limit.
 */
const HEAP_GROWING_PERCENT = 50;

async function main(): Promise<void> {
  setFlagsFromString(`--heap-growing-percent=${HEAP_GROWING_PERCENT}`);
  let config: Config;
  try {
    config = loadConfig(process.env);
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`Invalid configuration: ${err.message}\n`);
      process.exit(1);
    }
    throw err;
  }

  const app = await buildServer({ config });

  let closing = false;
  const shutdown = (signal: string): void => {
    if (closing) return;
    closing = true;
    app.log.info({ signal }, 'shutting down');
    // Open answer streams may keep connections alive; do not wait for them forever.
    setTimeout(() => process.exit(0), SHUTDOWN_GRACE_MS).unref();
    app.close().then(
      () => process.exit(0),
      (err: unknown) => {
        app.log.error({ err }, 'error while shutting down');
        process.exit(1);
      },
    );
  };
  process.once('SIGINT', () => shutdown('SIGINT'));
  process.once('SIGTERM', () => shutdown('SIGTERM'));

  await app.listen({ port: config.port, host: config.host });
  app.log.info(
    { backend: config.backendUrl.href, staticDir: config.staticDir },
    'frontend server ready',
  );
}

main().catch((err: unknown) => {
  process.stderr.write(`${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exit(1);
});
