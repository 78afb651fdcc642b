// The recipe's shape (docs/ARCHITECTURE.md): tasks/ holds the steps, one file each declaring
// tasks; tasks/lib/ the helpers, which declare none. Imports go one way, Taskfile.ts -> steps ->
// helpers, with no loop; the engine is reached only through its public API, src/index.ts.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import test from 'node:test';
import { fileURLToPath } from 'node:url';
import { importCycles, importGraph, tsFiles } from './helpers/import-graph.ts';

const root = fileURLToPath(new URL('..', import.meta.url));
const recipe = () => importGraph(root, ['Taskfile.ts', ...tsFiles(root, 'tasks')]);

type Kind = 'taskfile' | 'step' | 'helper' | 'engine API' | 'other';
function kindOf(file: string): Kind {
  if (file === 'Taskfile.ts') return 'taskfile';
  if (file === path.join('src', 'index.ts')) return 'engine API';
  if (file.startsWith(`tasks${path.sep}lib${path.sep}`)) return 'helper';
  if (path.dirname(file) === 'tasks') return 'step';
  return 'other';
}

/** What each kind of module may import. */
const allowed: Record<Kind, Kind[]> = {
  taskfile: ['step', 'helper', 'engine API'],
  step: ['helper', 'engine API'],
  helper: ['helper', 'engine API'],
  'engine API': [],
  other: [],
};

test('the graph walk finds a loop through several modules (the check below can fail)', () => {
  const looped = new Map([['a.ts', ['b.ts']], ['b.ts', ['c.ts']], ['c.ts', ['a.ts']], ['d.ts', ['a.ts']]]);
  assert.deepEqual(importCycles(looped), ['a.ts -> b.ts -> c.ts -> a.ts']);
  assert.deepEqual(importCycles(new Map([['a.ts', ['b.ts']], ['b.ts', []]])), []);
});

test('no recipe module imports itself back through others (no import loops)', () => {
  assert.deepEqual(importCycles(recipe()), []);
});

test('imports go one way: the Taskfile imports steps and helpers, a step only helpers, a helper only helpers; all reach the engine through src/index.ts', () => {
  const wrong: string[] = [];
  for (const [file, targets] of recipe()) {
    for (const target of targets) {
      if (!allowed[kindOf(file)].includes(kindOf(target))) wrong.push(`${file} (${kindOf(file)}) -> ${target} (${kindOf(target)})`);
    }
  }
  assert.deepEqual(wrong, []);
});

test('every step declares a task and is wired in the Taskfile; no helper declares one', () => {
  const graph = recipe();
  const files = [...graph.keys()];
  const declares = (file: string) => /\btask\(\s*['"`]/.test(fs.readFileSync(path.join(root, file), 'utf8'));
  const steps = files.filter((file) => kindOf(file) === 'step');
  assert.ok(steps.length >= 10, `steps found: ${steps.join(' ')}`);
  assert.deepEqual(steps.filter((file) => !declares(file)), [], 'steps that declare no task');
  assert.deepEqual(steps.filter((file) => !graph.get('Taskfile.ts')!.includes(file)), [], 'steps the Taskfile does not import');
  assert.deepEqual(files.filter((file) => kindOf(file) === 'helper' && declares(file)), [], 'helpers that declare a task');
});
