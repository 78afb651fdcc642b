// Who imports whom among a project's own modules, read from their import lines, and the loops in
// it: the engine's layers test and the recipe's shape test check the same way.
import fs from 'node:fs';
import path from 'node:path';

/** Relative imports and re-exports, static or dynamic, type-only ones included (a loop is a loop). */
const relativeImport = /(?:from|import)\s*\(?\s*['"](\.{1,2}\/[^'"]+)['"]/g;

/** The .ts files under `dir`, as paths relative to `root`. */
export function tsFiles(root: string, dir: string): string[] {
  return fs
    .readdirSync(path.join(root, dir), { recursive: true, encoding: 'utf8' })
    .filter((entry) => entry.endsWith('.ts'))
    .map((entry) => path.relative(root, path.join(root, dir, entry)));
}

/** Each file (relative to `root`) and the files its relative imports name, relative to `root`. */
export function importGraph(root: string, files: string[]): Map<string, string[]> {
  const graph = new Map<string, string[]>();
  for (const file of files) {
    const text = fs.readFileSync(path.join(root, file), 'utf8');
    const targets = [...text.matchAll(relativeImport)].map((m) => path.relative(root, path.resolve(root, path.dirname(file), m[1]!)));
    graph.set(file, [...new Set(targets)]);
  }
  return graph;
}

/** Every loop found by a depth-first walk, as `a -> b -> a`; imports of files outside the graph are not followed. */
export function importCycles(graph: Map<string, string[]>): string[] {
  const cycles: string[] = [];
  const state = new Map<string, 'open' | 'done'>();
  const visit = (file: string, trail: string[]) => {
    if (state.get(file) === 'done') return;
    if (state.get(file) === 'open') return void cycles.push([...trail.slice(trail.indexOf(file)), file].join(' -> '));
    state.set(file, 'open');
    for (const target of graph.get(file) ?? []) if (graph.has(target)) visit(target, [...trail, file]);
    state.set(file, 'done');
  };
  for (const file of graph.keys()) visit(file, []);
  return cycles;
}
