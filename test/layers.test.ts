// The engine's folders are layers (docs/ARCHITECTURE.md): a module imports only from its own
// layer or the layers below it, and no two modules import each other, even through others.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import test from 'node:test';
import { fileURLToPath } from 'node:url';

const src = fileURLToPath(new URL('../src/', import.meta.url));
/** Bottom to top. */
const layers = ['base', 'taskfile', 'graph', 'state', 'launch', 'decide', 'report', 'cache', 'build', 'cli'];

function modules(): Map<string, string[]> {
  const imports = new Map<string, string[]>();
  for (const entry of fs.readdirSync(src, { recursive: true, encoding: 'utf8' })) {
    if (!entry.endsWith('.ts')) continue;
    const text = fs.readFileSync(path.join(src, entry), 'utf8');
    const targets = [...text.matchAll(/(?:from|import)\s*\(?\s*'(\.{1,2}\/[^']+)'/g)].map((m) =>
      path.relative(src, path.resolve(path.dirname(path.join(src, entry)), m[1]!)),
    );
    imports.set(entry, targets);
  }
  return imports;
}

const layerOf = (file: string) => file.split('/')[0]!;

test('every engine module sits in a layer folder, except the public API', () => {
  const loose = [...modules().keys()].filter((file) => file !== 'index.ts' && !layers.includes(layerOf(file)));
  assert.deepEqual(loose, []);
});

test('imports go only downward: no layer imports a layer above it', () => {
  const upward: string[] = [];
  for (const [file, targets] of modules()) {
    if (file === 'index.ts') continue;
    for (const target of targets) {
      if (target === 'index.ts' || layers.indexOf(layerOf(target)) > layers.indexOf(layerOf(file))) upward.push(`${file} -> ${target}`);
    }
  }
  assert.deepEqual(upward, []);
});

test('no module imports itself back through others (no cycles)', () => {
  const graph = modules();
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
  assert.deepEqual(cycles, []);
});
