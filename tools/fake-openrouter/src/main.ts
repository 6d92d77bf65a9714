/**
 * CLI: runs the FAKE OpenRouter server until SIGTERM/SIGINT.
 *   PORT (default 12099), HOST (default 127.0.0.1)
 */
import { startFakeOpenRouter } from './server.js';

const port = Number(process.env.PORT ?? 12099);
const host = process.env.HOST ?? '127.0.0.1';

const fake = await startFakeOpenRouter({
  port,
  host,
  log: (line) => console.log(`[fake-openrouter] ${line}`),
});
console.log(`FAKE OpenRouter (not the real service) listening: OPENROUTER_BASE_URL=${fake.url}`);

let closing = false;
async function shutdown(signal: string): Promise<void> {
  if (closing) return;
  closing = true;
  console.log(`[fake-openrouter] ${signal}: closing`);
  await fake.close();
}
for (const signal of ['SIGTERM', 'SIGINT'] as const) {
  process.on(signal, () => {
    shutdown(signal).catch((error: unknown) => {
      console.error(error);
      process.exitCode = 1;
    });
  });
}
