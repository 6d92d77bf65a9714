// The chaos run: users chat against the fake upstream while the backend is killed with
// SIGKILL again and again; after each restart every acknowledged write must be there.
// Usage (in backend/): npm run chaos -- --rounds 100 --users 8 [--seed 42] [--keep DIR]
// Exit code 1 when anything acknowledged was lost or changed. See docs/durability.md.
import { parseArgs } from 'node:util';
import { failed, runChaos, type ChaosReport } from './chaos/run.js';

const { values } = parseArgs({
  options: {
    rounds: { type: 'string', default: '10' },
    users: { type: 'string', default: '4' },
    seed: { type: 'string' },
    keep: { type: 'string' },
  },
});
const count = (name: string, raw: string | undefined, max: number): number => {
  const value = Number(raw);
  if (!Number.isInteger(value) || value < 1 || value > max) {
    console.error(`--${name} must be an integer from 1 to ${max}, got "${raw}"`);
    process.exit(2);
  }
  return value;
};
const report = await runChaos({
  rounds: count('rounds', values.rounds, 100_000),
  users: count('users', values.users, 64),
  seed: values.seed === undefined ? undefined : count('seed', values.seed, 2 ** 31),
  log: (line) => console.log(line),
  keepDir: values.keep,
});
console.log(summary(report));
process.exit(failed(report) ? 1 : 0);

function summary(r: ChaosReport): string {
  const f = r.findings;
  const list = (items: string[]) =>
    items
      .slice(0, 20)
      .map((i) => `\n    ${i}`)
      .join('');
  return [
    '',
    `chaos: ${r.rounds} rounds, ${r.users} users, seed ${r.seed}, ${(r.durationMs / 1000).toFixed(0)} s`,
    `  kills: ${r.kills.total} (start-up ${r.kills.startup}, of which before listening ${r.kills.startupBeforeListening}; under load ${r.kills.underLoad}; aimed at a checkpoint ${r.kills.aimedAtCheckpoint})`,
    `         ${r.kills.checkpointCut} cut a checkpoint short, ${r.kills.walLeft} left a WAL to replay`,
    `  acknowledged writes: ${r.acknowledged.total} (conversations ${r.acknowledged.conversations}, renames ${r.acknowledged.renames}, user messages ${r.acknowledged.userMessages}, complete answers ${r.acknowledged.answers}, sessions ${r.acknowledged.sessions})`,
    `  answers cut mid-stream: ${r.cutAnswers}`,
    `  checks: ${f.checked} acknowledged writes checked, ${f.messages} messages read back (over all restarts)`,
    `  lost: ${f.lost.length}${list(f.lost)}`,
    `  changed: ${f.corrupt.length}${list(f.corrupt)}`,
    `  left streaming: ${f.streaming.length}${list(f.streaming)}`,
    `  torn turns: ${f.torn.length}${list(f.torn)}`,
    `  other failures: ${r.failures.length}${list(r.failures)}`,
    ...(r.kept ? [`  files kept for a post-mortem: ${r.kept}`] : []),
    failed(r) ? 'FAILED' : 'OK: nothing acknowledged was lost',
  ].join('\n');
}
