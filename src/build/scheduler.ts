// Runs tasks in dependency order, at most `jobs` at once, longest remaining chain first.
// The only file that imports p-graph.
import { createRequire } from 'node:module';
import type { Graph } from '../graph/graph.ts';

const require = createRequire(import.meta.url);
// Loaded on the first schedule only: a no-op build settles every task without it.
const loadPGraph = (): typeof import('p-graph') => require('p-graph');

/**
 * Calls `runOne` for every task in `order` once its dependencies' calls have settled.
 * `runOne` must not reject: failures are data the caller records (p-graph would silently drop
 * the dependents of a rejected task, and stop waiting for the running ones).
 */
export async function schedule(graph: Graph, order: readonly string[], jobs: number, runOne: (name: string) => Promise<void>): Promise<void> {
  const inClosure = new Set(order);
  // p-graph adds priorities up along dependents, so 1 each gives the longest remaining chain.
  const nodes = new Map(order.map((name) => [name, { priority: 1 }]));
  const dependencies: Array<[string, string]> = [];
  for (const name of order) {
    for (const dep of graph.nodes.get(name)!.deps) {
      if (inClosure.has(dep)) dependencies.push([dep, name]);
    }
  }
  const { PGraph } = loadPGraph();
  await new PGraph(nodes, dependencies).run({ concurrency: Math.max(1, jobs), run: runOne });
}
