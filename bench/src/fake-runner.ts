/**
 * The fake OpenRouter in a process of its own, so its CPU time is not counted in the
 * services' or the load client's. PORT picks the port (default: a free one).
 *
 * The fake records every request and stream for tests to inspect; a benchmark sends
 * hundreds of thousands, so the records are dropped every second to keep its memory flat.
 */
import { startFakeOpenRouter } from '../../tools/fake-openrouter/src/server.js';

const fake = await startFakeOpenRouter({
  port: Number(process.env.PORT ?? 0),
  host: '127.0.0.1',
});
setInterval(() => {
  fake.requests.splice(0);
  fake.streams.splice(0);
}, 1000).unref();
process.stdout.write(`fake OpenRouter listening: ${fake.url}\n`);

for (const signal of ['SIGTERM', 'SIGINT'] as const) {
  process.once(signal, () => {
    void fake.close().finally(() => process.exit(0));
  });
}
