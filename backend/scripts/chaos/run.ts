import { copyFile, mkdir, mkdtemp, rename, rm } from 'node:fs/promises';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { startFakeOpenRouter } from '../../../tools/fake-openrouter/src/server.js';
import { hashPassword } from '../../src/auth/password.js';
import { createAuthRepo } from '../../src/auth/repo.js';
import { openDatabase } from '../../src/db/connection.js';
import { sessionCookie } from '../../src/test-support/factories.js';
import { Processes, randomPort, type Spawned } from '../../test/processes.js';
import {
  checkpointUnfinished,
  databaseFiles,
  waitForCheckpoint,
  waitForDatabaseWrite,
} from './files.js';
import { api } from './http.js';
import { Ledger } from './ledger.js';
import { chat, type ChaosUser, type LoadFigures } from './load.js';
import { createRandom } from './random.js';
import { addFindings, noFindings, verifyAll, type Findings } from './verify.js';

export interface ChaosOptions {
  rounds: number;
  users: number;
  seed?: number;
  /** How long the load runs before a random kill, in ms. */
  loadMs?: [number, number];
  /** Where each line of progress goes. */
  log?: (line: string) => void;
  /**
   * Where the run's folder is moved when a start fails (the database as the failed start
   * found it, and a copy of the files right after each of the last kills). Default: a new
   * folder next to the run's temporary one.
   */
  keepDir?: string;
}

export interface ChaosReport {
  rounds: number;
  users: number;
  seed: number;
  kills: {
    total: number;
    /** While the backend started: loading, opening the file (WAL replay), migrating. */
    startup: number;
    /** Of those, before it listened (so certainly inside start-up). */
    startupBeforeListening: number;
    /** While users chatted, at a random moment. */
    underLoad: number;
    /** While users chatted, the moment a checkpoint was seen under way. */
    aimedAtCheckpoint: number;
    /** Kills after which the files show a checkpoint started and not finished. */
    checkpointCut: number;
    /** Kills after which a WAL was left for the next start to replay. */
    walLeft: number;
  };
  acknowledged: {
    total: number;
    conversations: number;
    renames: number;
    userMessages: number;
    answers: number;
    sessions: number;
  };
  /** Streams cut by a kill (their answers saved as far as they got, then interrupted). */
  cutAnswers: number;
  findings: Findings;
  /** Anything else that went wrong: a start that failed, a stream error, a bad exit code. */
  failures: string[];
  /** Where the files were kept for a post-mortem when a start failed (else null). */
  kept: string | null;
  durationMs: number;
}

const TINY_THRESHOLD = '1KB';

type RoundPlan = {
  startupKill: 'none' | 'random' | 'at-first-write';
  loadKill: 'random' | 'checkpoint';
  threshold: string | undefined;
};

/**
 * Rounds of: (maybe) a kill during start-up, a start, a check of every acknowledged write,
 * users chatting, and a SIGKILL: at a random moment or the moment a checkpoint is under way.
 * The plan cycles so that even 3 rounds cover each kind; timings come from the seed.
 */
function planRound(round: number, random: ReturnType<typeof createRandom>): RoundPlan {
  const slot = round % 3;
  return {
    startupKill: slot === 1 ? random.pick(['random', 'at-first-write'] as const) : 'none',
    loadKill: slot === 2 ? 'checkpoint' : 'random',
    // Tiny: nearly every commit checkpoints (which slows writes down about threefold).
    // Default: the WAL grows until the next start replays it.
    threshold: slot === 2 || round % 4 === 0 ? TINY_THRESHOLD : undefined,
  };
}

export async function runChaos(options: ChaosOptions): Promise<ChaosReport> {
  const started = Date.now();
  const seed = options.seed ?? Date.now() % 1_000_000;
  const random = createRandom(seed);
  const log = options.log ?? (() => undefined);
  const [loadMin, loadMax] = options.loadMs ?? [1000, 6000];
  const dir = await mkdtemp(path.join(tmpdir(), 'ai-chaos-'));
  const databasePath = path.join(dir, 'app.db');
  const fake = await startFakeOpenRouter();
  const processes = new Processes(() => ({
    DATABASE_PATH: databasePath,
    OPENROUTER_BASE_URL: fake.url,
    OPENROUTER_API_KEY: 'sk-or-chaos',
    // Users send as fast as they can: the per-user rate limit would refuse most of it.
    CHAT_RATE_LIMIT_PER_MINUTE: '0',
  }));
  const port = randomPort();
  const baseUrl = `http://127.0.0.1:${port}`;
  const ledger = new Ledger();
  const findings = noFindings();
  const failures: string[] = [];
  const kills: ChaosReport['kills'] = {
    total: 0,
    startup: 0,
    startupBeforeListening: 0,
    underLoad: 0,
    aimedAtCheckpoint: 0,
    checkpointCut: 0,
    walLeft: 0,
  };
  const users: ChaosUser[] = Array.from({ length: options.users }, (_, index) => ({
    index,
    username: index === 0 ? 'admin' : `user${index}`,
    password: `chaos password ${index}`,
    cookie: '',
    conversation: null,
  }));
  let startupMs = 1500;
  let startFailed = false;
  let kept: string | null = null;

  const spawn = (threshold: string | undefined) =>
    processes.backend(port, threshold ? { DUCKDB_CHECKPOINT_THRESHOLD: threshold } : {});

  /** SIGKILL, then what the files say about the moment it landed. */
  async function kill(backend: Spawned, what: string): Promise<string> {
    if (backend.child.exitCode !== null || backend.child.signalCode !== null) {
      failures.push(`${what}: the backend had exited by itself: ${backend.output().slice(-2000)}`);
      return 'had exited';
    }
    backend.child.kill('SIGKILL');
    await backend.exited;
    kills.total++;
    await snapshot(kills.total);
    const files = databaseFiles(databasePath);
    const notes: string[] = [];
    if (checkpointUnfinished(files)) {
      kills.checkpointCut++;
      notes.push('cut a checkpoint short');
    }
    if (files.wal) {
      kills.walLeft++;
      notes.push(`left a ${files.wal.size} B WAL`);
    }
    return notes.join(', ') || 'WAL empty';
  }

  /**
   * The files exactly as a kill left them, before the next start replays or rewrites them:
   * when a start then fails, these show whether the kill or the recovery broke the file.
   * The last three are kept.
   */
  async function snapshot(kill: number): Promise<void> {
    const into = path.join(dir, `after-kill-${kill}`);
    await mkdir(into);
    for (const file of [databasePath, `${databasePath}.wal`]) {
      await copyFile(file, path.join(into, path.basename(file))).catch(() => undefined);
    }
    await rm(path.join(dir, `after-kill-${kill - 3}`), { recursive: true, force: true });
  }

  async function start(threshold: string | undefined, what: string): Promise<Spawned | null> {
    const at = Date.now();
    const backend = spawn(threshold);
    try {
      await backend.up(60_000);
    } catch (error) {
      startFailed = true;
      failures.push(`${what}: ${(error as Error).message}`);
      backend.child.kill('SIGKILL');
      await backend.exited;
      return null;
    }
    startupMs = Date.now() - at;
    return backend;
  }

  try {
    // Bootstrap: the first start on a new file dies while it migrates; the next one must
    // open and migrate it. The admin signs up; the other users are added while it is down.
    {
      const first = spawn(undefined);
      await waitForDatabaseWrite(databasePath, 0, 60_000);
      await new Promise((resolve) => setTimeout(resolve, random.int(0, 20)));
      const before = !(await listening(port));
      const note = await kill(first, 'bootstrap');
      kills.startup++;
      if (before) kills.startupBeforeListening++;
      log(`bootstrap: killed the first start on a new file (${note})`);

      const second = await start(undefined, 'bootstrap');
      if (!second) throw new Error(failures.at(-1));
      const setup = await api(baseUrl, null, 'POST', '/api/auth/setup', {
        username: users[0]?.username,
        password: users[0]?.password,
      });
      if (setup.status !== 201) throw new Error(`setup answered ${setup.status}`);
      ledger.sessions++;
      log(`bootstrap: admin set up, then killed (${await kill(second, 'bootstrap')})`);

      const db = await openDatabase(databasePath);
      try {
        for (const user of users.slice(1)) {
          await createAuthRepo(db).insertUser({
            id: crypto.randomUUID(),
            username: user.username,
            passwordHash: await hashPassword(user.password),
            role: 'user',
            now: new Date().toISOString(),
          });
        }
      } finally {
        await db.close();
      }
    }

    for (let round = 1; round <= options.rounds; round++) {
      const plan = planRound(round, random);
      const line: string[] = [`round ${round}/${options.rounds}`];

      if (plan.startupKill !== 'none') {
        const spawnedAt = Date.now();
        const starting = spawn(plan.threshold);
        if (plan.startupKill === 'at-first-write') {
          // The first write of the file: WAL replay, the migration's transaction or its checkpoint.
          await waitForDatabaseWrite(databasePath, spawnedAt, 60_000);
          await new Promise((resolve) => setTimeout(resolve, random.int(0, 15)));
        } else {
          await new Promise((resolve) => setTimeout(resolve, random.int(0, startupMs)));
        }
        const before = !(await listening(port));
        const note = await kill(starting, `round ${round} start-up`);
        kills.startup++;
        if (before) kills.startupBeforeListening++;
        line.push(
          `start-up kill (${plan.startupKill}, ${before ? 'before listening' : 'listening'}: ${note})`,
        );
      }

      const backend = await start(plan.threshold, `round ${round}`);
      if (!backend) break;
      line.push(`up in ${(startupMs / 1000).toFixed(1)} s`);

      for (const user of users) {
        if (user.cookie !== '') continue;
        // Signed in once; the session (a row) must then survive every kill.
        user.cookie = await signIn(baseUrl, user);
        ledger.sessions++;
      }

      const checked = await verifyAll(baseUrl, users, ledger);
      addFindings(findings, checked);
      line.push(
        `checked ${checked.checked} writes, ${checked.messages} messages` +
          (checked.lost.length + checked.corrupt.length + checked.streaming.length > 0
            ? ` — LOST ${checked.lost.length}, CORRUPT ${checked.corrupt.length}, STREAMING ${checked.streaming.length}`
            : ''),
      );

      let killing = false;
      const loads = users.map((user) =>
        chat(user, { baseUrl, ledger, random, round, killed: () => killing }),
      );
      const loadStarted = Date.now();
      let note: string;
      if (plan.loadKill === 'checkpoint') {
        await new Promise((resolve) => setTimeout(resolve, loadMin));
        const seen = await waitForCheckpoint(databasePath, 10_000, () => false);
        killing = true;
        note = await kill(backend, `round ${round}`);
        if (seen) kills.aimedAtCheckpoint++;
        else kills.underLoad++;
        note = `${seen ? 'kill aimed at a checkpoint' : 'no checkpoint seen in 10 s, killed anyway'} (${note})`;
      } else {
        await new Promise((resolve) => setTimeout(resolve, random.int(loadMin, loadMax)));
        killing = true;
        note = `kill under load (${await kill(backend, `round ${round}`)})`;
        kills.underLoad++;
      }
      const figures: LoadFigures[] = await Promise.all(loads);
      const sent = figures.reduce((n, f) => n + f.messages, 0);
      for (const f of figures)
        failures.push(...f.streamErrors.map((e) => `round ${round}: stream error ${e}`));
      line.push(`${sent} messages in ${((Date.now() - loadStarted) / 1000).toFixed(1)} s, ${note}`);
      line.push(`acknowledged so far ${ledger.acknowledged}`);
      log(line.join('; '));
      // The fake keeps every request: let go of them between rounds.
      fake.requests.length = 0;
      fake.streams.length = 0;
    }

    // The last start: everything checked once more, then a clean stop.
    const last = await start(undefined, 'final start');
    if (last) {
      const checked = await verifyAll(baseUrl, users, ledger);
      addFindings(findings, checked);
      last.child.kill('SIGTERM');
      const code = await last.exited;
      if (code !== 0)
        failures.push(`final SIGTERM: exit code ${code}: ${last.output().slice(-2000)}`);
      log(
        `final: checked ${checked.checked} writes, ${checked.messages} messages; stopped with code ${code}`,
      );
    }
  } finally {
    processes.killAll();
    await fake.close();
    if (startFailed) {
      kept = options.keepDir ?? `${dir}-failed`;
      await rename(dir, kept);
      log(`kept the files of the failed start in ${kept}`);
    } else {
      await rm(dir, { recursive: true, force: true });
    }
  }

  return {
    rounds: options.rounds,
    users: options.users,
    seed,
    kills,
    acknowledged: {
      total: ledger.acknowledged,
      conversations: ledger.conversations.size,
      renames: ledger.renames,
      userMessages: ledger.userMessages.length,
      answers: ledger.answers.length,
      sessions: ledger.sessions,
    },
    cutAnswers: ledger.cut.size,
    findings,
    failures,
    kept,
    durationMs: Date.now() - started,
  };
}

/** Whether something accepts connections on the port (the backend listens last in its start). */
function listening(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ port, host: '127.0.0.1' });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

async function signIn(baseUrl: string, user: ChaosUser): Promise<string> {
  const response = await fetch(`${baseUrl}/api/auth/login`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ username: user.username, password: user.password }),
  });
  if (response.status !== 200) throw new Error(`sign-in of ${user.username}: ${response.status}`);
  return sessionCookie(response.headers.getSetCookie());
}

/** Whether the run lost or broke anything. */
export function failed(report: ChaosReport): boolean {
  const f = report.findings;
  return (
    f.lost.length + f.corrupt.length + f.streaming.length + f.torn.length + report.failures.length >
    0
  );
}
