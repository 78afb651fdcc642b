import assert from 'node:assert/strict';
import path from 'node:path';
import { test } from 'node:test';
import { TaskfileError, UsageError } from '../src/base/errors.ts';
import { buildGraph, closure, criticalPathLengths } from '../src/graph/graph.ts';
import type { TaskDef } from '../src/taskfile/registry.ts';
import type { TaskSpec } from '../src/taskfile/types.ts';

const defs = (specs: Record<string, TaskSpec>) => new Map<string, TaskDef>(Object.entries(specs).map(([name, spec]) => [name, { name, spec }]));

test('a cycle is reported whole', () => {
  assert.throws(
    () => buildGraph(defs({ a: { deps: ['b'] }, b: { deps: ['c'] }, c: { deps: ['a'] }, d: {} }), '/p'),
    (e: Error) => e instanceof TaskfileError && e.message === 'dependency cycle: a -> b -> c -> a',
  );
});

test('a task that depends on itself is a cycle', () => {
  assert.throws(() => buildGraph(defs({ a: { deps: ['a'] } }), '/p'), /dependency cycle: a -> a/);
});

test('an unknown dependency names the task and suggests the closest name', () => {
  assert.throws(
    () => buildGraph(defs({ rootfs: {}, chroot: { deps: ['rootf'] } }), '/p'),
    (e: Error) => e instanceof TaskfileError && e.message === "task 'chroot' depends on unknown task 'rootf' (did you mean 'rootfs'?)",
  );
});

test('an unknown target is a usage error with a suggestion', () => {
  const graph = buildGraph(defs({ hosts: {}, smoke: {} }), '/p');
  assert.throws(() => closure(graph, ['host']), (e: Error) => e instanceof UsageError && /unknown task 'host' \(did you mean 'hosts'\?\)/.test(e.message));
  assert.throws(() => closure(graph, ['zzzzzzzz']), (e: Error) => e instanceof UsageError && !e.message.includes('did you mean'));
});

test('two tasks claiming one output are an error naming both and the file', () => {
  assert.throws(
    () => buildGraph(defs({ a: { outputs: ['out/x'] }, b: { outputs: ['./out/../out/x'] } }), '/p'),
    /tasks 'a' and 'b' both declare the output out\/x/,
  );
});

test('a task name that cannot be a log file name is rejected', () => {
  assert.throws(() => buildGraph(defs({ '../x': {} }), '/p'), /task name '\.\.\/x' is not valid/);
});

test('the closure holds the targets and what they need, dependencies first', () => {
  const graph = buildGraph(defs({ a: {}, b: { deps: ['a'] }, c: { deps: ['b', 'a'] }, unrelated: {} }), '/p');
  assert.deepEqual(closure(graph, ['c']), ['a', 'b', 'c']);
  assert.deepEqual(closure(graph, ['b', 'unrelated']), ['a', 'b', 'unrelated']);
});

test('a 20,000-task chain needs no deep recursion', () => {
  const specs: Record<string, TaskSpec> = { t0: {} };
  for (let i = 1; i < 20_000; i++) specs[`t${i}`] = { deps: [`t${i - 1}`] };
  const graph = buildGraph(defs(specs), '/p');
  const order = closure(graph, ['t19999']);
  assert.equal(order.length, 20_000);
  assert.equal(order[0], 't0');
  assert.equal(criticalPathLengths(graph, order).get('t0'), 20_000);
});

test('critical path lengths count the longest chain to the end', () => {
  const graph = buildGraph(defs({ a: {}, b: { deps: ['a'] }, c: { deps: ['b'] }, d: { deps: ['a'] }, all: { deps: ['c', 'd'] } }), '/p');
  const lengths = criticalPathLengths(graph, closure(graph, ['all']));
  assert.deepEqual(Object.fromEntries(lengths), { a: 4, b: 3, c: 2, d: 2, all: 1 });
});

test('declared paths become absolute paths and root-relative keys, whatever their shape', () => {
  const shapes = ['src/a.c', './b.c', 'x/../c.c', 'd//e.c', '.hidden', 'dir/', '../outside.c', '/abs/f.c'];
  for (const root of ['/p', '/']) {
    const graph = buildGraph(defs({ t: { inputs: shapes, outputs: shapes.map((s) => `${s}.out`) } }), root);
    const node = graph.nodes.get('t')!;
    for (const shape of shapes) {
      const file = path.resolve(root, shape);
      assert.deepEqual(node.literalInputs[shapes.indexOf(shape)], { file, key: path.relative(root, file) || file }, `${shape} under ${root}`);
    }
    assert.deepEqual(node.outputs, shapes.map((s) => path.resolve(root, `${s}.out`)));
    assert.deepEqual(node.outputKeys, node.outputs.map((file) => path.relative(root, file) || file));
  }
});
