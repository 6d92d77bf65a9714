/**
 * Per-process figures from /proc: CPU time (utime + stime), peak and current RSS,
 * open file descriptors. Linux only, like the deployment.
 */
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';

/** Clock ticks per second of /proc/<pid>/stat (USER_HZ), usually 100. */
export const CLK_TCK = (() => {
  try {
    return Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
  } catch {
    return 100;
  }
})();

/** CPU time of one process so far, in ms (user + system); NaN once it is gone. */
export function cpuMs(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Fields after "pid (comm) ": state is field 3, utime 14, stime 15.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const ticks = Number(fields[11]) + Number(fields[12]);
    return (ticks * 1000) / CLK_TCK;
  } catch {
    return NaN;
  }
}

/** CPU time of one thread of a process, in ms (the main thread's id is the pid). */
export function threadCpuMs(pid: number, tid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/task/${tid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return ((Number(fields[11]) + Number(fields[12])) * 1000) / CLK_TCK;
  } catch {
    return NaN;
  }
}

/** VmHWM (peak RSS) and VmRSS of a process, in kB. */
export function memoryKb(pid: number): { hwm: number; rss: number } {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const field = (name: string) =>
      Number(new RegExp(`^${name}:\\s+(\\d+)`, 'm').exec(status)?.[1]);
    return { hwm: field('VmHWM'), rss: field('VmRSS') };
  } catch {
    return { hwm: NaN, rss: NaN };
  }
}

/** Resets VmHWM to the current RSS (clear_refs 5), so the next peak is this phase's own. */
export function resetPeak(pid: number): boolean {
  try {
    writeFileSync(`/proc/${pid}/clear_refs`, '5');
    return true;
  } catch {
    return false;
  }
}

export function fdCount(pid: number): number {
  try {
    return readdirSync(`/proc/${pid}/fd`).length;
  } catch {
    return NaN;
  }
}

/** Direct children of a process (nginx's workers). */
export function childrenOf(pid: number): number[] {
  try {
    const out: number[] = [];
    for (const task of readdirSync(`/proc/${pid}/task`)) {
      const text = readFileSync(`/proc/${pid}/task/${task}/children`, 'utf8').trim();
      if (text) out.push(...text.split(/\s+/).map(Number));
    }
    return out;
  } catch {
    const out: number[] = [];
    for (const name of readdirSync('/proc')) {
      if (!/^\d+$/.test(name)) continue;
      try {
        const stat = readFileSync(`/proc/${name}/stat`, 'utf8');
        const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
        if (ppid === pid) out.push(Number(name));
      } catch {
        // Gone meanwhile.
      }
    }
    return out;
  }
}

/** CPU time the whole machine spent busy so far (all cores), in ms, from /proc/stat. */
export function machineBusyMs(): number {
  try {
    const line = readFileSync('/proc/stat', 'utf8').split('\n')[0] ?? '';
    const [, user, nice, system, , , irq, softirq, steal] = line.trim().split(/\s+/).map(Number);
    const ticks = [user, nice, system, irq, softirq, steal].reduce<number>(
      (a, b) => a + (b ?? 0),
      0,
    );
    return (ticks * 1000) / CLK_TCK;
  } catch {
    return NaN;
  }
}

/** A named group of processes measured together (nginx: master + workers). */
export interface ProcGroup {
  name: string;
  pids(): number[];
}

export interface GroupSnapshot {
  cpuMs: number;
  hwmKb: number;
  rssKb: number;
  fds: number;
}

export function snapshot(group: ProcGroup): GroupSnapshot {
  let cpu = 0;
  let hwm = 0;
  let rss = 0;
  let fds = 0;
  for (const pid of group.pids()) {
    cpu += cpuMs(pid);
    const m = memoryKb(pid);
    hwm += m.hwm;
    rss += m.rss;
    fds += fdCount(pid);
  }
  return { cpuMs: cpu, hwmKb: hwm, rssKb: rss, fds };
}

/**
 * Watches a set of groups during one phase: CPU used, peak RSS (VmHWM after a reset, and
 * the highest VmRSS sampled every 100 ms as a cross-check where clear_refs is refused).
 */
export class PhaseMeter {
  private readonly start = new Map<string, GroupSnapshot>();
  private readonly peakRss = new Map<string, number>();
  private readonly timer: NodeJS.Timeout;
  private readonly startCpu = process.cpuUsage();
  private readonly startedAt = performance.now();
  private readonly startBusy = machineBusyMs();
  peakResetWorked = true;

  constructor(private readonly groups: ProcGroup[]) {
    for (const g of groups) {
      for (const pid of g.pids()) this.peakResetWorked = resetPeak(pid) && this.peakResetWorked;
      this.start.set(g.name, snapshot(g));
      this.peakRss.set(g.name, 0);
    }
    this.timer = setInterval(() => this.sample(), 100);
  }

  private sample(): void {
    for (const g of this.groups) {
      let rss = 0;
      for (const pid of g.pids()) rss += memoryKb(pid).rss;
      if (rss > (this.peakRss.get(g.name) ?? 0)) this.peakRss.set(g.name, rss);
    }
  }

  stop(): PhaseResult {
    clearInterval(this.timer);
    this.sample();
    const groups: PhaseResult['groups'] = {};
    for (const g of this.groups) {
      const before = this.start.get(g.name);
      const after = snapshot(g);
      groups[g.name] = {
        cpuMs: after.cpuMs - (before?.cpuMs ?? 0),
        peakKb: Math.max(after.hwmKb, this.peakRss.get(g.name) ?? 0),
        rssKb: after.rssKb,
        fds: after.fds,
      };
    }
    const own = process.cpuUsage(this.startCpu);
    const clientCpuMs = (own.user + own.system) / 1000;
    const measured = Object.values(groups).reduce((n, g) => n + g.cpuMs, clientCpuMs);
    const wallMs = performance.now() - this.startedAt;
    return {
      wallMs,
      clientCpuMs,
      groups,
      otherCpuMs: machineBusyMs() - this.startBusy - measured,
      cores: os.availableParallelism(),
    };
  }
}

export interface PhaseResult {
  wallMs: number;
  /** CPU used by this process (the load client) during the phase. */
  clientCpuMs: number;
  /** CPU the rest of the machine used meanwhile (other people's work, the kernel's threads). */
  otherCpuMs: number;
  cores: number;
  groups: Record<string, { cpuMs: number; peakKb: number; rssKb: number; fds: number }>;
}
