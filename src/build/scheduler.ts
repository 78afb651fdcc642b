// Runs tasks in dependency order, at most `jobs` at once and at most a pool's depth of each pool,
// longest remaining chain first. The only file that imports p-graph.
import { createRequire } from 'node:module';
import { criticalPathLengths, type Graph } from '../graph/graph.ts';
import { ReadyQueue } from './ready-queue.ts';

const require = createRequire(import.meta.url);
// Loaded on the first schedule only: a no-op build settles every task without it.
const loadPGraph = (): typeof import('p-graph') => require('p-graph');

/** Runs one task in the -j slot `lane`; `release` hands the slot on early (see schedule). */
export type RunOne = (name: string, lane: number, release: () => boolean) => Promise<void>;

/**
 * Calls `runOne` for every task in `order` once its dependencies' calls have settled, and
 * `ready` then at once, before the task waits for a slot (work it can do ahead of its turn).
 * `runOne` must not reject: failures are data the caller records (p-graph would silently drop
 * the dependents of a rejected task, and stop waiting for the running ones).
 *
 * A task's slot is free again when its `runOne` settles, or earlier when it calls the `release`
 * it is given (which says whether another task started in it): its commands have exited, and
 * what is left (recording it, reporting it) need not keep the next command waiting, as ninja's
 * -j counts commands. Its dependents are ready only once its `runOne` has settled.
 *
 * p-graph only says when a task's dependencies are done; the slots are handed out here, because
 * p-graph knows one limit and a task waiting for its pool must not hold one of the -j slots
 * (ninja's pools: a link step waiting for the link pool leaves the compiles running).
 */
export async function schedule(graph: Graph, order: readonly string[], jobs: number, runOne: RunOne, ready?: (name: string) => void): Promise<void> {
  const inClosure = new Set(order);
  const nodes = new Map(order.map((name) => [name, {}]));
  const dependencies: Array<[string, string]> = [];
  for (const name of order) {
    for (const dep of graph.nodes.get(name)!.deps) {
      if (inClosure.has(dep)) dependencies.push([dep, name]);
    }
  }
  const slots = new Slots(graph, order, jobs);
  const { PGraph } = loadPGraph();
  await new PGraph(nodes, dependencies).run({
    run: (name) => {
      ready?.(name);
      return slots.run(name, runOne);
    },
  });
}

/**
 * The free slots: -j of them, numbered (a task's lane, its row in a trace), and each pool's
 * depth (ready-queue.ts).
 */
class Slots {
  readonly #graph: Graph;
  readonly #priority: Map<string, number>;
  /** Per task of the closure, its dependencies in the closure that have not settled yet. */
  readonly #unsettledDeps = new Map<string, number>();
  /** The free -j slots, the lowest on top. */
  readonly #freeLanes: number[];
  /** Ready tasks, waiting; started highest priority first among those whose pool has room. */
  readonly #waiting = new ReadyQueue();
  #choosing = false;

  constructor(graph: Graph, order: readonly string[], jobs: number) {
    this.#graph = graph;
    this.#priority = criticalPathLengths(graph, order);
    const slots = Math.max(1, Math.min(jobs, order.length)); // -j0 is Infinity: a slot a task
    this.#freeLanes = Array.from({ length: slots }, (_, i) => slots - 1 - i);
    for (const name of order) {
      const deps = new Set(graph.nodes.get(name)!.deps.filter((dep) => this.#priority.has(dep)));
      this.#unsettledDeps.set(name, deps.size);
    }
  }

  async run(name: string, runOne: RunOne): Promise<void> {
    const { pool } = this.#graph.nodes.get(name)!;
    // Started (by #startWhatFits, when a slot is free) in the lowest free slot.
    const lane = await new Promise<number>((start) => {
      this.#waiting.push({ name, priority: this.#priority.get(name)!, ...(pool ? { pool } : {}), start: () => start(this.#freeLanes.pop()!) });
      // After the tasks that became ready at the same moment have joined, so the best one starts.
      if (!this.#choosing) {
        this.#choosing = true;
        queueMicrotask(() => {
          this.#choosing = false;
          this.#startWhatFits();
        });
      }
    });
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
    try {
      await runOne(name, lane, release);
    } finally {
      for (const dependent of new Set(this.#graph.nodes.get(name)!.dependents)) {
        const left = this.#unsettledDeps.get(dependent);
        if (left !== undefined) this.#unsettledDeps.set(dependent, left - 1);
      }
      if (!released) free();
      // Once p-graph has handed over the dependents this made ready: they may come first.
      setImmediate(() => this.#startWhatFits());
    }
  }

  /** Whether a task that `name` alone still holds back would start before every task waiting now. */
  #freesBetter(name: string): boolean {
    const best = this.#waiting.bestPriority();
    if (best === undefined) return true;
    for (const dependent of this.#graph.nodes.get(name)!.dependents) {
      if (this.#unsettledDeps.get(dependent) === 1 && this.#priority.get(dependent)! > best) return true;
    }
    return false;
  }

  /** Starts the best waiting tasks while slots are free; whether it started one. */
  #startWhatFits(): boolean {
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
