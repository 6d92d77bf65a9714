/**
 * The database work of one chat send, alone, side by side for two or more versions of the
 * backend: what the send's reads (the conversation, its messages), the turn's commit and the
 * final save cost in CPU (the process's JS thread and its other threads — DuckDB's and libuv's —
 * from /proc/self/task/<tid>/stat) and wall time per answer, answers committed one at a time
 * and in batches, as group commit forms them under load.
 *
 *   cd bench && npx tsx src/send-db.ts [--variant name=spec]... [--batches 1,3] [--answers 1500]
 *                                      [--rounds 3] [--ids random,time]
 *
 * A spec is a git ref (its backend/src) or `worktree` (the files on disk). Default:
 * `--variant before=1bdb5c6 --variant worktree=worktree` (1bdb5c6: before prepared writes, writes
 * by id alone and synchronous row reads). Each variant and batch size runs in a fresh process
 * on a fresh DuckDB file with 1,000 conversations; variants alternate within each round, so a
 * noisy shared machine hits them alike. Reported: the median over rounds, and its ratio to the
 * first variant; and DuckDB's memory after the last answer (its ART indexes, which it holds in
 * memory and no memory_limit caps, and its cached table blocks) and the file's size.
 *
 * `--ids random,time` runs every variant twice: with random ids (UUIDv4, as the backend made
 * them before 2026-12-05) and with the backend's own (db/ids.ts: time-ordered UUIDv7). Default:
 * random, as the backend's older refs have no db/ids.ts.
 */
import { execFileSync, execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { mkdtemp, rm, symlink } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { benchRoot, root } from './services.js';
import { log, table } from './util.js';

const args = process.argv.slice(2);
const value = (name: string): string | undefined => {
  const i = args.indexOf(name);
  return i === -1 ? undefined : args[i + 1];
};

interface Sample {
  mainMs: number;
  otherMs: number;
  wallMs: number;
  /** DuckDB's memory after the last answer, MB by its tag (duckdb_memory()). */
  memoryMb: Record<string, number>;
  /** The file's size after the close (which checkpoints), MB. */
  fileMb: number;
}

/** How the child makes ids: `random` (UUIDv4) or `time` (the backend's db/ids.ts, UUIDv7). */
type IdKind = 'random' | 'time';

/** Per-thread CPU of this process in ms: the JS thread (tid = pid) and all the others. */
function threadCpu(): { main: number; other: number } {
  const ticksMs = 10; // CLK_TCK 100
  let main = 0;
  let other = 0;
  for (const tid of readdirSync('/proc/self/task')) {
    const fields = readFileSync(`/proc/self/task/${tid}/stat`, 'utf8').split(') ')[1]!.split(' ');
    const ms = (Number(fields[11]) + Number(fields[12])) * ticksMs;
    if (Number(tid) === process.pid) main += ms;
    else other += ms;
  }
  return { main, other };
}

/**
 * One measurement, in a child process:
 * `--child <backend src dir> <batch> <answers> <db file> <id kind>`.
 */
async function child(
  src: string,
  batch: number,
  answers: number,
  file: string,
  idKind: IdKind,
): Promise<Sample> {
  const load = (p: string) => import(pathToFileURL(path.join(src, p)).href);
  const newId: () => string =
    idKind === 'random' ? randomUUID : ((await load('db/ids.ts')) as { newId: () => string }).newId;
  const { openDatabase } = await load('db/connection.ts');
  const { migrate } = await load('db/migrate.ts');
  const { createChatRepo } = await load('chat/repo.ts');
  const { createConversationsRepo } = await load('conversations/repo.ts');
  const db = await openDatabase(file);
  await migrate(db);
  const now = () => new Date().toISOString();
  const conversationIds: string[] = [];
  await db.transaction(async (tx: unknown) => {
    const repo = createConversationsRepo(tx);
    for (let i = 0; i < 1000; i += 1) {
      const id = newId();
      conversationIds.push(id);
      await repo.insert('u1', {
        id,
        title: 'New chat',
        model: 'fake/slow',
        fallbackModels: [],
        pinned: false,
        archived: false,
        folderId: null,
        providerRouting: null,
        systemPrompt: null,
        params: {},
        createdAt: now(),
        updatedAt: now(),
      });
    }
  });
  const conversations = createConversationsRepo(db);
  const chat = createChatRepo(db);
  const before = threadCpu();
  const started = performance.now();
  for (let i = 0; i < answers; i += batch) {
    const turns = Array.from({ length: batch }, (_, k) => ({
      conversationId: conversationIds[(i + k) % conversationIds.length]!,
      question: newId(),
      answer: newId(),
      generation: newId(),
    }));
    for (const t of turns) {
      await conversations.find('u1', t.conversationId);
      await chat.contextRows('u1', t.conversationId);
    }
    await db.transaction((tx: unknown) =>
      createChatRepo(tx).insertTurns(
        turns.map((t) => ({
          userId: 'u1',
          conversationId: t.conversationId,
          userMessage: { id: t.question, parentId: null, content: 'Hello there', createdAt: now() },
          // The turn's answers as the backend names them since comparisons (one here), and
          // as earlier versions did: each variant reads the fields it knows.
          answers: [
            { id: t.answer, createdAt: now(), generationId: t.generation, model: 'fake/slow' },
          ],
          comparisonId: null,
          assistantMessage: { id: t.answer, createdAt: now() },
          generationId: t.generation,
          model: 'fake/slow',
          title: null,
        })),
      ),
    );
    await db.transaction((tx: unknown) =>
      createChatRepo(tx).finishAll(
        turns.map((t) => ({
          userId: 'u1',
          messageId: t.answer,
          generationId: t.generation,
          conversationId: t.conversationId,
          content: 'word '.repeat(100),
          reasoning: null,
          sources: null,
          status: 'complete',
          error: null,
          errorCode: null,
          upstreamId: 'gen-1',
          provider: 'Fake',
          answeredModel: null,
          usage: {
            promptTokens: 10,
            completionTokens: 100,
            reasoningTokens: 0,
            cachedTokens: 0,
            cost: 0.001,
          },
          usageSource: 'recorded',
          timeToFirstTokenMs: 10,
          durationMs: 500,
          finishReason: 'stop',
          now: now(),
        })),
      ),
    );
  }
  const after = threadCpu();
  const wall = performance.now() - started;
  const memory = (await db.all(
    'SELECT tag, memory_usage_bytes AS bytes FROM duckdb_memory() WHERE memory_usage_bytes > 0',
  )) as Array<{ tag: string; bytes: number }>;
  await db.close();
  return {
    mainMs: (after.main - before.main) / answers,
    otherMs: (after.other - before.other) / answers,
    wallMs: wall / answers,
    memoryMb: Object.fromEntries(memory.map((m) => [m.tag, m.bytes / 1e6])),
    fileMb: statSync(file).size / 1e6,
  };
}

/** A variant's backend/src: the worktree's, or a git ref's extracted next to its node_modules. */
async function sourceOf(spec: string, work: string): Promise<string> {
  if (spec === 'worktree') return path.join(root, 'backend', 'src');
  const dir = path.join(work, spec.replace(/[^\w.-]/g, '_'));
  execFileSync('mkdir', ['-p', dir]);
  const archive = execFileSync('git', ['-C', root, 'archive', spec, 'backend/src'], {
    maxBuffer: 256 * 1024 * 1024,
  });
  execFileSync('tar', ['-x', '-C', dir], { input: archive });
  await symlink(
    path.join(root, 'backend', 'node_modules'),
    path.join(dir, 'backend', 'node_modules'),
  );
  return path.join(dir, 'backend', 'src');
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

async function main(): Promise<void> {
  const specs = args
    .flatMap((a, i) => (args[i - 1] === '--variant' ? [a] : []))
    .map((s) => {
      const eq = s.indexOf('=');
      return eq === -1 ? { name: s, spec: s } : { name: s.slice(0, eq), spec: s.slice(eq + 1) };
    });
  const variants =
    specs.length > 0
      ? specs
      : [
          { name: 'before', spec: '1bdb5c6' },
          { name: 'worktree', spec: 'worktree' },
        ];
  const batches = (value('--batches') ?? '1,3').split(',').map(Number);
  const answers = Number(value('--answers') ?? 1500);
  const rounds = Number(value('--rounds') ?? 3);
  const idKinds = (value('--ids') ?? 'random').split(',') as IdKind[];
  if (idKinds.some((k) => k !== 'random' && k !== 'time')) throw new Error('--ids: random,time');
  // Every variant with every kind of id: `name` alone when only one kind runs.
  const runs = variants.flatMap((v) =>
    idKinds.map((ids) => ({
      ...v,
      ids,
      label: idKinds.length > 1 ? `${v.name}, ${ids} ids` : v.name,
    })),
  );
  const work = await mkdtemp(path.join(tmpdir(), 'bench-send-db-'));
  try {
    const sources = new Map<string, string>();
    for (const v of variants) sources.set(v.name, await sourceOf(v.spec, work));
    const samples = new Map<string, Sample[]>();
    for (let round = 0; round < rounds; round += 1) {
      const order = round % 2 === 0 ? runs : [...runs].reverse();
      for (const batch of batches) {
        for (const r of order) {
          const file = path.join(work, `${r.name}-${r.ids}-${batch}-${round}.db`);
          const { stdout } = await promisify(execFile)(
            process.execPath,
            [
              '--import',
              'tsx',
              path.join(benchRoot, 'src', 'send-db.ts'),
              '--child',
              sources.get(r.name)!,
              String(batch),
              String(answers),
              file,
              r.ids,
            ],
            { cwd: benchRoot, maxBuffer: 1024 * 1024 },
          );
          const sample = JSON.parse(stdout.trim().split('\n').at(-1)!) as Sample;
          const key = `${r.label}|${batch}`;
          samples.set(key, [...(samples.get(key) ?? []), sample]);
          log(`round ${round + 1}, batch ${batch}, ${r.label}: ${JSON.stringify(sample)}`);
        }
      }
    }
    const rows: string[][] = [];
    const memoryRows: string[][] = [];
    const mb = (s: Sample[], read: (x: Sample) => number) => median(s.map(read)).toFixed(1);
    for (const batch of batches) {
      const first = samples.get(`${runs[0]!.label}|${batch}`)!;
      const base = median(first.map((s) => s.mainMs + s.otherMs));
      const baseArt = median(first.map((s) => s.memoryMb['ART_INDEX'] ?? 0));
      for (const r of runs) {
        const s = samples.get(`${r.label}|${batch}`)!;
        const total = median(s.map((x) => x.mainMs + x.otherMs));
        rows.push([
          String(batch),
          `${r.label} (${r.spec})`,
          median(s.map((x) => x.mainMs)).toFixed(2),
          median(s.map((x) => x.otherMs)).toFixed(2),
          total.toFixed(2),
          `×${(total / base).toFixed(2)}`,
          median(s.map((x) => x.wallMs)).toFixed(2),
        ]);
        const art = median(s.map((x) => x.memoryMb['ART_INDEX'] ?? 0));
        memoryRows.push([
          String(batch),
          `${r.label} (${r.spec})`,
          art.toFixed(1),
          `×${(art / baseArt).toFixed(2)}`,
          mb(s, (x) => x.memoryMb['BASE_TABLE'] ?? 0),
          mb(s, (x) => x.memoryMb['IN_MEMORY_TABLE'] ?? 0),
          mb(s, (x) => x.fileMb),
        ]);
      }
    }
    console.log(
      `\nThe send's database work per answer (${answers} answers per run, median of ${rounds} rounds):\n`,
    );
    console.log(
      table(
        ['batch', 'variant', 'CPU ms: JS thread', 'other threads', 'total', 'ratio', 'wall ms'],
        rows,
      ),
    );
    console.log(`\nDuckDB's memory after the last answer, and the file after the close, MB:\n`);
    console.log(
      table(
        [
          'batch',
          'variant',
          'ART indexes',
          'ratio',
          'cached table blocks',
          'uncheckpointed rows',
          'file',
        ],
        memoryRows,
      ),
    );
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}

if (args[0] === '--child') {
  const sample = await child(
    args[1]!,
    Number(args[2]),
    Number(args[3]),
    args[4]!,
    (args[5] ?? 'random') as IdKind,
  );
  console.log(JSON.stringify(sample));
} else {
  await main();
}
