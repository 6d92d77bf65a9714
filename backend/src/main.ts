import { readFileSync } from 'node:fs';
import path from 'node:path';
import { setFlagsFromString } from 'node:v8';
import { pino } from 'pino';
import { buildApp } from './app.js';
import { ConfigError, loadConfig } from './config.js';
import { DatabaseLockedError, openDatabase } from './db/connection.js';
import { migrate } from './db/migrate.js';
import { loggerOptions } from './http/logging.js';
import { createKeyring } from './keys/crypto.js';
import { resolveSecretKey } from './keys/secret.js';
import { createOpenRouterClient, createUpstreamAgent } from './openrouter/client.js';

/** Time allowed after the grace for aborted answers to be saved and the database closed. */
const FINAL_SAVES_MS = 5000;

/**
 * The old generation may grow to 1.5 times what the last full GC kept, instead of V8's default
 * of up to 4 times when collecting looks cheap. Under streaming load every answer's objects
 * live through two scavenges and are promoted (~30 KB per answer), so by default the heap swung
 * between ~55 MB live and ~200 MB before each full GC. Measured (docs/benchmarks.md, Findings
 * 7): peak RSS at 200 streams 384 → 321 MB, at 1,000 streams 419 → 351 MB, CPU per answer
 * unchanged. V8 reads this flag whenever it sets the next limit, so setting it here, before
 * anything is allocated under load, is as good as the command line, and holds however the
 * process is started (npm start, the container, the bench and the e2e suite run dist/main.js).
 */
const HEAP_GROWING_PERCENT = 50;

/**
 * V8's allocation-site pretenuring off. When a scavenge finds most objects of one allocation
 * site alive, V8 allocates that site's later objects straight in the old generation. Every
 * query's rows are built at a few such sites (db/connection.ts); with pretenuring on, reads of
 * a 500-message conversation promoted ~1.5 MB per scavenge (mostly the rows' strings, which
 * dead old objects kept alive) and forced a full GC every ~20 calls, which those calls paid.
 * Measured (docs/benchmarks.md, Findings 17): that conversation's p99 48–54 → 27–40 ms, no full
 * GC after start-up; streaming CPU per answer within the spread, the soak's no worse.
 */
const V8_FLAGS = [
  `--heap-growing-percent=${HEAP_GROWING_PERCENT}`,
  '--no-allocation-site-pretenuring',
];

/**
 * The C allocator serving Node's own memory: jemalloc where it is preloaded, as the container
 * and nixpacks' start line do (LD_PRELOAD), else the system's. Logged once at start, so an
 * operator can see that the image's preload took (a missing library only makes the loader warn).
 */
function cAllocator(): string {
  try {
    return readFileSync('/proc/self/maps', 'utf8').includes('/libjemalloc.so')
      ? 'jemalloc'
      : 'system';
  } catch {
    return 'unknown';
  }
}

async function main(): Promise<void> {
  for (const flag of V8_FLAGS) setFlagsFromString(flag);
  const config = loadConfig();
  const log = pino(loggerOptions({ level: config.logLevel }));
  const db = await openDatabase(config.databasePath, {
    checkpointThreshold: config.checkpointThreshold,
    memoryLimit: config.memoryLimit,
    onUnfinishedFile: (movedTo) =>
      log.warn(
        { file: config.databasePath, movedTo },
        'the database file was cut short while it was being created (a first start that was killed) and holds no data: moved it aside and created a new one',
      ),
  });
  log.info({ allocator: cAllocator(), mallocConf: process.env.MALLOC_CONF }, 'C allocator');
  const { applied } = await migrate(db);
  if (applied.length > 0) log.info({ applied }, 'database migrations applied');
  // The key that encrypts users' stored API keys: SECRET_KEY, or a file in the data folder.
  const secret = await resolveSecretKey(config.secretKey, path.dirname(config.databasePath));
  if (secret.source === 'file-created')
    log.warn(
      { file: secret.file },
      'SECRET_KEY is not set: generated an encryption key for stored API keys into this file; back it up (without it saved keys cannot be read)',
    );
  const keyring = createKeyring(secret.key, config.secretKeyPrevious);

  // One connection pool for every upstream request, closed at shutdown.
  const upstreamAgent = createUpstreamAgent();
  const openrouter = createOpenRouterClient({
    dispatcher: upstreamAgent,
    baseUrl: config.openrouterBaseUrl,
    apiKey: config.openrouterApiKey,
    appUrl: config.appUrl,
    appTitle: config.appTitle,
    connectTimeoutMs: config.upstreamFirstByteTimeoutMs,
    idleTimeoutMs: config.upstreamIdleTimeoutMs,
    maxRetries: config.upstreamMaxRetries,
  });
  if (!openrouter.hasKey)
    log.warn('OPENROUTER_API_KEY is not set: chatting is disabled until it is');

  const app = await buildApp({
    config,
    db,
    openrouter,
    keyring,
    logger: { level: config.logLevel },
  });
  let stopping = false;
  const stop = async (signal: NodeJS.Signals) => {
    if (stopping) {
      // The operator wants out now. Answers still running stay `streaming` in the file with
      // their last saved text and become `interrupted` at the next start.
      app.log.warn({ signal }, 'second signal: exiting at once, without the final saves');
      process.exit(1);
    }
    stopping = true;
    app.log.info({ signal, graceMs: config.shutdownGraceMs }, 'shutting down');
    // Past the grace and the final saves, something hangs: exit rather than hang on.
    setTimeout(() => {
      app.log.error('shutdown did not finish in time; exiting');
      process.exit(1);
    }, config.shutdownGraceMs + FINAL_SAVES_MS).unref();
    try {
      // Refuses new requests (503), drains running answers for the grace, closes sockets.
      await app.close();
      // Every answer is done or saved as interrupted: nothing is left to read upstream.
      await upstreamAgent.destroy();
      await db.checkpoint();
      await db.close();
    } catch (error) {
      app.log.error({ err: error }, 'shutdown failed');
      process.exit(1);
    }
    app.log.info('stopped');
    process.exit(0);
  };
  process.on('SIGTERM', (signal) => void stop(signal));
  process.on('SIGINT', (signal) => void stop(signal));

  await app.listen({ port: config.port, host: config.host });
}

main().catch((error: unknown) => {
  if (error instanceof ConfigError || error instanceof DatabaseLockedError) {
    console.error(error.message);
  } else {
    console.error('The backend failed to start:', error);
  }
  process.exit(1);
});
