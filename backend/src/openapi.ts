import { randomBytes } from 'node:crypto';
import { buildApp } from './app.js';
import { loadConfig } from './config.js';
import { openDatabase } from './db/connection.js';
import { migrate } from './db/migrate.js';
import { createKeyring } from './keys/crypto.js';
import { createOpenRouterClient } from './openrouter/client.js';

/** The OpenAPI document, built from the same schemas that validate requests. */
export async function renderOpenApi(): Promise<string> {
  const config = loadConfig({});
  const db = await openDatabase(':memory:');
  await migrate(db);
  const openrouter = createOpenRouterClient({
    baseUrl: config.openrouterBaseUrl,
    apiKey: undefined,
  });
  // A throwaway key: nothing is sealed while the document is rendered.
  const keyring = createKeyring(randomBytes(32));
  const app = await buildApp({ config, db, openrouter, keyring, logger: false });
  try {
    await app.ready();
    return `${JSON.stringify(app.swagger(), null, 2)}\n`;
  } finally {
    await app.close();
    await db.close();
  }
}
