// Runs tasks in dependency order, at most `jobs` at once and at most a pool's depth of each pool,
// longest remaining chain first.
import { criticalPathLengths, type Graph } from '../graph/graph.ts';
import { ReadyQueue } from './ready-queue.ts';

/**
 * Calls `runOne` for every task in `order` once its dependencies' calls have settled, and
 * `ready` then at once, before the task waits for a slot (work it can do ahead of its turn).
 * `runOne` must not reject: failures are data the caller records (a rejection ends the schedule
 * with it, once the tasks running have settled, and starts nothing more).
 *
 * A task's slot is free again when its `runOne` settles, or earlier when it calls the `release`
 * it is given (which says whether another task started in it): its commands have exited, and
 * what is left (recording it, reporting it) need not keep the next command waiting, as ninja's
 * -j counts commands. Its dependents are ready only
 * once its `runOne` has settled. The slots are handed out here, by dependency counts: a task
 * waiting for its pool must not hold one of the -j slots (ninja's pools: a link step waiting
 * for the link pool leaves the compiles running).
 */
export function schedule(
  graph: Graph,
  order: readonly string[],
  jobs: number,
  runOne: (name: string, lane: number, release: () => boolean) => Promise<void>,
  ready?: (name: string) => void,
): Promise<void> {
  return new Scheduler(graph, order, jobs, runOne, ready).run();
}

class Scheduler {
  readonly #graph: Graph;
  readonly #runOne: (name: string, lane: number, release: () => boolean) => Promise<void>;
  readonly #ready: ((name: string) => void) | undefined;
  readonly #priority: Map<string, number>;
  /** Dependencies in the closure not settled yet, per task waiting for them. */
  readonly #blockedBy = new Map<string, number>();
  /** The free -j slots, the lowest on top. */
  readonly #freeLanes: number[];
  /** Ready tasks, waiting; started highest priority first among those whose pool has room. */
  readonly #waiting = new ReadyQueue();
  readonly #order: readonly string[];
  #unsettled: number;
  #failure: { error: unknown } | undefined;
  #running = 0;
  #done!: () => void;
  #failed!: (error: unknown) => void;

  constructor(graph: Graph, order: readonly string[], jobs: number, runOne: (name: string, lane: number, release: () => boolean) => Promise<void>, ready?: (name: string) => void) {
    this.#graph = graph;
    this.#order = order;
    this.#runOne = runOne;
    this.#ready = ready;
    this.#priority = criticalPathLengths(graph, order);
    const slots = Math.max(1, jobs);
    this.#freeLanes = Array.from({ length: slots }, (_, i) => slots - 1 - i);
    this.#unsettled = order.length;
  }

  run(): Promise<void> {
    const finished = new Promise<void>((resolve, reject) => {
      this.#done = resolve;
      this.#failed = reject;
    });
    if (this.#unsettled === 0) return Promise.resolve();
    const roots: string[] = [];
    for (const name of this.#order) {
      let count = 0;
      // One count a dependency as listed, as its `dependents` lists the task once a listing.
      for (const dep of this.#graph.nodes.get(name)!.deps) if (this.#priority.has(dep)) count++;
      if (count === 0) roots.push(name);
      else this.#blockedBy.set(name, count);
    }
    // Every task ready at the start joins before the first starts, so the best one starts.
    for (const name of roots) this.#becomeReady(name);
    this.#startWhatFits();
    return finished;
  }

  #becomeReady(name: string): void {
    this.#ready?.(name);
    const { pool } = this.#graph.nodes.get(name)!;
    this.#waiting.push({ name, priority: this.#priority.get(name)!, ...(pool ? { pool } : {}), start: () => this.#start(name, pool) });
  }

  #start(name: string, pool: { name: string } | undefined): void {
    const lane = this.#freeLanes.pop()!;
    this.#running++;
    let released = false;
    const free = () => {
      released = true;
      this.#freeLanes.push(lane);
      this.#waiting.release(pool);
    };
    // Handed on early only when no task it is the last dependency of would come before every
    // task waiting now (the longer chain goes first, as when the slot is freed at the end).
    const release = () => {
      if (released || this.#freesBetter(name)) return false;
      free();
      return this.#startWhatFits();
    };
    let work: Promise<void>;
    try {
      work = this.#runOne(name, lane, release);
    } catch (error) {
      work = Promise.reject(error);
    }
    const settled = () => {
      this.#settled(name);
      if (!released) free();
      this.#startWhatFits();
      this.#finishIfDone();
    };
    work.then(settled, (error: unknown) => {
      this.#failure ??= { error };
      settled();
    });
  }

  /** Whether a task that `name` alone still holds back would start before every task waiting now. */
  #freesBetter(name: string): boolean {
    const best = this.#waiting.bestPriority();
    if (best === undefined) return true;
    for (const dependent of this.#graph.nodes.get(name)!.dependents) {
      if (this.#blockedBy.get(dependent) === 1 && this.#priority.get(dependent)! > best) return true;
    }
    return false;
  }

  /** The dependents it made ready join the waiting tasks before its slot is handed on: they may come first. */
  #settled(name: string): void {
    this.#running--;
    this.#unsettled--;
    if (this.#failure !== undefined) return;
    for (const dependent of this.#graph.nodes.get(name)!.dependents) {
      const left = this.#blockedBy.get(dependent);
      if (left === undefined) continue;
      if (left > 1) this.#blockedBy.set(dependent, left - 1);
      else {
        this.#blockedBy.delete(dependent);
        this.#becomeReady(dependent);
      }
    }
  }

  #finishIfDone(): void {
    if (this.#failure !== undefined) {
      if (this.#running === 0) this.#failed(this.#failure.error);
    } else if (this.#unsettled === 0) this.#done();
  }

  /** Whether it started a task. */
  #startWhatFits(): boolean {
    if (this.#failure !== undefined) return false;
    let started = false;
    while (this.#freeLanes.length > 0) {
      const chosen = this.#waiting.take();
      if (chosen === undefined) break;
      chosen.start();
      started = true;
    }
    return started;
  }
}
