import type { Generation } from './generation.js';

/** The generations running in this process, by id. */
export class GenerationRegistry {
  private readonly running = new Map<string, Generation>();

  add(generation: Generation): void {
    this.running.set(generation.id, generation);
    void generation.done.then(() => this.running.delete(generation.id));
  }

  /**
   * A generation still running. Only the owner finds theirs: anyone else gets nothing, as for
   * a missing id. One that has sent its final event is no longer found, even before it leaves
   * the map.
   */
  find(userId: string, id: string): Generation | undefined {
    const generation = this.running.get(id);
    return generation?.userId === userId && generation.running ? generation : undefined;
  }

  /** The user's running generations (all of them, whoever's request started them). */
  ofUser(userId: string): Generation[] {
    return [...this.running.values()].filter((g) => g.userId === userId && g.running);
  }

  get size(): number {
    return this.running.size;
  }

  /** Waits up to `graceMs` for running answers, then aborts the rest (saved as interrupted). */
  async drain(graceMs: number): Promise<void> {
    const all = () => Promise.all([...this.running.values()].map((g) => g.done));
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<'timeout'>((resolve) => {
      timer = setTimeout(() => resolve('timeout'), graceMs);
    });
    const outcome = await Promise.race([all(), timeout]);
    clearTimeout(timer);
    if (outcome === 'timeout') {
      for (const generation of this.running.values()) generation.abort('shutdown');
      await all();
    }
  }
}
