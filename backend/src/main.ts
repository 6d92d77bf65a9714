import { pino } from 'pino';
import { buildApp } from './app.js';
import { ConfigError, loadConfig } from './config.js';
import { DatabaseLockedError, openDatabase } from './db/connection.js';
import { migrate } from './db/migrate.js';
import { createOpenRouterClient } from './openrouter/client.js';

async function main(): Promise<void> {
  const config = loadConfig();
  const log = pino({ level: config.logLevel });
  const db = await openDatabase(config.databasePath);
  const { applied } = await migrate(db);
  if (applied.length > 0) log.info({ applied }, 'database migrations applied');

  const openrouter = createOpenRouterClient({
    baseUrl: config.openrouterBaseUrl,
    apiKey: config.openrouterApiKey,
    appUrl: config.appUrl,
    appTitle: config.appTitle,
  });
  if (!openrouter.hasKey)
    log.warn('OPENROUTER_API_KEY is not set: chatting is disabled until it is');

  const app = await buildApp({ config, db, openrouter, logger: { level: config.logLevel } });
  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    app.log.info({ signal }, 'shutting down');
    await app.close();
    await db.checkpoint();
    await db.close();
    process.exit(0);
  };
  process.on('SIGTERM', () => void stop('SIGTERM'));
  process.on('SIGINT', () => void stop('SIGINT'));

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
