// The engine's folders are layers (docs/ARCHITECTURE.md): a module imports only from its own
// layer or the layers below it, and no two modules import each other, even through others.
import assert from 'node:assert/strict';
import test from 'node:test';
import { fileURLToPath } from 'node:url';
import { importCycles, importGraph, tsFiles } from './helpers/import-graph.ts';

const src = fileURLToPath(new URL('../src/', import.meta.url));
/** Bottom to top. */
const layers = ['base', 'taskfile', 'graph', 'state', 'launch', 'decide', 'report', 'cache', 'build', 'cli'];

/** The engine's modules and their imports, as paths relative to src/. */
const modules = () => importGraph(src, tsFiles(src, '.'));

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
  assert.deepEqual(importCycles(modules()), []);
});
