// Task generators: a glob becomes tasks in a stable order; cProgram declares a compile per source
// (with its depfile and every flag in its command) and a link; a pattern matching nothing is a
// Taskfile error reported after loading.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, test } from 'node:test';
import { cProgram, eachFile, matchFiles, type Declare } from '../src/taskfile/generators.ts';
import { resetRegistry } from '../src/taskfile/registry.ts';
import { buildGraph } from '../src/graph/graph.ts';
import type { TaskSpec } from '../src/taskfile/types.ts';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'generators-'));
after(() => fs.rmSync(dir, { recursive: true, force: true }));
for (const file of ['src/main.c', 'src/net/io.c', 'src/b.c', 'src/notes.txt', 'include/a.h']) {
  fs.mkdirSync(path.dirname(path.join(dir, file)), { recursive: true });
  fs.writeFileSync(path.join(dir, file), '');
}

/** A declare that keeps what it is given, as `task()` would register it. */
function recorder(): { declare: Declare; specs: Map<string, TaskSpec> } {
  const specs = new Map<string, TaskSpec>();
  return { specs, declare: (name, spec) => (specs.set(name, spec), { name }) };
}

test('matchFiles: relative paths, sorted, with their parts; several patterns, each file once', () => {
  const files = matchFiles(['src/**/*.c', 'src/*.c'], dir);
  assert.deepEqual(files.map((f) => f.path), ['src/b.c', 'src/main.c', 'src/net/io.c']);
  assert.deepEqual(files[2], { path: 'src/net/io.c', dir: 'src/net', base: 'io.c', stem: 'src/net/io', ext: '.c' });
});

test('a pattern that matches nothing is a Taskfile error, named, reported after loading', () => {
  const registry = resetRegistry(new Map());
  assert.deepEqual(matchFiles('src/*.cpp', dir), []);
  assert.equal(registry.errors.length, 1);
  assert.match(registry.errors[0]!, /the pattern src\/\*\.cpp matches no file/);
});

test('eachFile declares one task per match with the name and spec it is given', () => {
  const { declare, specs } = recorder();
  const cwd = process.cwd();
  process.chdir(dir);
  try {
    const refs = eachFile(declare, 'src/*.c', (file) => ({ name: `lint:${file.base}`, inputs: [file.path] }));
    assert.deepEqual(refs.map((r) => r.name), ['lint:b.c', 'lint:main.c']);
    assert.deepEqual(specs.get('lint:main.c'), { inputs: ['src/main.c'] });
  } finally {
    process.chdir(cwd);
  }
});

test('cProgram: a compile per source with its depfile and flags, and a link of every object', () => {
  const { declare, specs } = recorder();
  const cwd = process.cwd();
  process.chdir(dir);
  try {
    const { link, objects } = cProgram(declare, 'app', {
      sources: 'src/**/*.c',
      cflags: ['-O2', '-Iinclude'],
      flagsFor: (file) => (file.dir === 'src/net' ? ['-DNET'] : []),
      ldflags: ['-s'],
      libs: ['-lm'],
    });
    assert.deepEqual(objects.map((o) => o.name), ['app:src:b.o', 'app:src:main.o', 'app:src:net:io.o']);
    assert.equal(link.name, 'app');
    assert.deepEqual(specs.get('app:src:net:io.o'), {
      inputs: ['src/net/io.c'],
      outputs: ['build/obj/src/net/io.o'],
      depfile: 'build/obj/src/net/io.o.d',
      command: ['cc', '-O2', '-Iinclude', '-DNET', '-MMD', '-MF', 'build/obj/src/net/io.o.d', '-c', 'src/net/io.c', '-o', 'build/obj/src/net/io.o'],
    });
    const objectFiles = ['build/obj/src/b.o', 'build/obj/src/main.o', 'build/obj/src/net/io.o'];
    assert.deepEqual(specs.get('app'), { inputs: objectFiles, outputs: ['build/app'], command: ['cc', '-s', '-o', 'build/app', ...objectFiles, '-lm'] });
    // What it declares is a valid graph in which the link depends on every compile.
    const graph = buildGraph(new Map([...specs].map(([name, spec]) => [name, { name, spec }])), dir);
    assert.deepEqual(graph.nodes.get('app')!.deps.sort(), objects.map((o) => o.name).sort());
  } finally {
    process.chdir(cwd);
  }
});
