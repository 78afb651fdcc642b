// The command lines a run starts: recorded with its record, and a change that nothing declared
// explains is named (in memory, through the engine with a fake runner that calls ctx.exec's recorder).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { unexplainedLineChange } from '../src/decide/command-lines.ts';
import { commandLine } from '../src/launch/task-context.ts';
import type { FingerprintParts, TaskRecord } from '../src/state/record.ts';
import { decodeStore, encodeStore, fromPlainRecord, toPlainRecord } from '../src/state/state-codec.ts';

const parts = (over: Partial<FingerprintParts> = {}): FingerprintParts => ({
  name: 'a.o', runSource: 'r', checkSource: '', values: { v: 1 }, inputs: new Map([['a.c', 'd1']]), outputs: ['a.o'], deps: new Map(), ...over,
});
const record = (lines: string[], p = parts()): TaskRecord => ({ parts: p, outputs: new Map(), result: 'x', finishedAt: 0, durationMs: 0, ranCommands: lines });

test('commandLine: shell-quoted, with cd and env where exec was given them', () => {
  assert.equal(commandLine('cc', ['-O2', '-DX=two words', 'a.c']), "cc -O2 '-DX=two words' a.c");
  assert.equal(commandLine('make', [], { cwd: 'sub dir', env: { A: '1', B: undefined } }), "cd 'sub dir' && env A=1 -u B make");
});

test('a changed line with nothing declared changed is named, old and new', () => {
  const change = unexplainedLineChange(record(['cc -O2 -c a.c']), parts(), ['cc -O3 -c a.c'], false);
  assert.deepEqual(change, { old: 'cc -O2 -c a.c', now: 'cc -O3 -c a.c' });
});

test('no change named when something declared explains it, the lines are the same set, or the task has a check', () => {
  const lines = ['cc -O3 -c a.c'];
  assert.equal(unexplainedLineChange(record(['cc -O2 -c a.c']), parts({ values: { v: 2 } }), lines, false), undefined, 'a value changed');
  assert.equal(unexplainedLineChange(record(['cc -O2 -c a.c']), parts({ inputs: new Map([['a.c', 'd2']]) }), lines, false), undefined, 'an input changed');
  assert.equal(unexplainedLineChange(record(['cc -O2 -c a.c']), parts({ runSource: 'r2' }), lines, false), undefined, 'the run changed');
  assert.equal(unexplainedLineChange(record(['cc -O2 -c a.c']), parts(), lines, true), undefined, 'a check: live state');
  assert.equal(unexplainedLineChange(record(['poll', 'go']), parts(), ['poll', 'poll', 'go'], false), undefined, 'a poll asked twice');
  assert.equal(unexplainedLineChange(undefined, parts(), lines, false), undefined, 'no last run');
});

test('the recorded lines survive the store file and the journal', () => {
  const tasks = new Map([['a.o', record(['cc -O2 -c a.c', "cd sub && make 'x y'"])]]);
  const decoded = decodeStore(JSON.parse(encodeStore(tasks, new Map())));
  assert.ok(typeof decoded !== 'string');
  assert.deepEqual(decoded.tasks.get('a.o')!.ranCommands, ['cc -O2 -c a.c', "cd sub && make 'x y'"]);
  assert.deepEqual(fromPlainRecord(JSON.parse(JSON.stringify(toPlainRecord(tasks.get('a.o')!))))!.ranCommands, ['cc -O2 -c a.c', "cd sub && make 'x y'"]);
});
