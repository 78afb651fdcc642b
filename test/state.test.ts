// The state store on disk: atomic saves, the journal, and damaged files.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, test } from 'node:test';
import { StateError } from '../src/base/errors.ts';
import { acquireLock } from '../src/state/lock.ts';
import { toPlainRecord } from '../src/state/state-codec.ts';
import { loadState, saveState, stateVersion, type TaskRecord } from '../src/state/state.ts';

const made: string[] = [];
const tempDir = () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'task-state-'));
  made.push(dir);
  return dir;
};
after(() => {
  for (const dir of made) fs.rmSync(dir, { recursive: true, force: true });
});

const record = (result: string): TaskRecord => ({
  parts: { name: 'x', runSource: '', checkSource: '', values: {}, inputs: new Map(), outputs: [], deps: new Map() },
  outputs: new Map(),
  result,
  finishedAt: 1,
  durationMs: 1,
});

test('records survive a save and a load', async () => {
  const dir = tempDir();
  const store = loadState(dir, { journal: true });
  store.put('a', record('r1'));
  await saveState(dir, store);
  assert.equal(loadState(dir, { journal: false }).get('a')?.result, 'r1');
  assert.equal(fs.existsSync(path.join(dir, 'journal')), false, 'the journal is folded into the store');
});

test('the journal keeps changes made after the last save, as a crash would leave them', async () => {
  const dir = tempDir();
  const store = loadState(dir, { journal: true });
  store.put('a', record('r1'));
  store.put('b', record('r2'));
  await saveState(dir, store);
  const next = loadState(dir, { journal: true });
  next.delete('a'); // about to rerun a
  next.put('c', record('r3'));
  // No save: the process "dies" here.
  const after = loadState(dir, { journal: false });
  assert.equal(after.get('a'), undefined, 'a record removed before a run stays removed');
  assert.equal(after.get('b')?.result, 'r2');
  assert.equal(after.get('c')?.result, 'r3');
  assert.deepEqual(after.warnings, []);
});

test('a journal line cut short by a crash is ignored', () => {
  const dir = tempDir();
  fs.writeFileSync(path.join(dir, 'journal'), `${JSON.stringify({ op: 'put', task: 'a', record: toPlainRecord(record('r1')) })}\n{"op":"del","ta`);
  const store = loadState(dir, { journal: false });
  assert.equal(store.get('a')?.result, 'r1');
  assert.deepEqual(store.warnings, []);
});

for (const [what, text, warning] of [
  ['garbage', 'not json at all', /is not valid JSON/],
  ['an empty file', '', /is empty/],
  ['a truncated file', `{"version":${stateVersion},"tasks":{"a":`, /is not valid JSON/],
  ['a future version', JSON.stringify({ version: 99, tasks: {} }), /has version 99, this task understands 2/],
] as const) {
  test(`a store holding ${what} is a warning and is treated as empty`, () => {
    const dir = tempDir();
    fs.writeFileSync(path.join(dir, 'state.json'), text);
    const store = loadState(dir, { journal: false });
    assert.equal(store.tasks.size, 0);
    assert.equal(store.warnings.length, 1);
    assert.match(store.warnings[0]!, warning);
  });
}

test('a corrupt line in the middle of the journal distrusts the whole state', async () => {
  const dir = tempDir();
  const store = loadState(dir, { journal: true });
  store.put('a', record('r1'));
  await saveState(dir, store);
  fs.writeFileSync(path.join(dir, 'journal'), `garbage\n${JSON.stringify({ op: 'put', task: 'b', record: toPlainRecord(record('r2')) })}\n`);
  const loaded = loadState(dir, { journal: false });
  assert.equal(loaded.tasks.size, 0);
  assert.match(loaded.warnings[0]!, /journal .* holds a line that is not valid JSON/);
});

test('the lock names the pid of a live holder and is taken over from a dead one', () => {
  const dir = tempDir();
  const lock = path.join(dir, 'lock');
  fs.writeFileSync(lock, `${process.ppid}\n`);
  assert.throws(() => acquireLock(lock), new RegExp(`another task run \\(pid ${process.ppid}\\)`));
  fs.writeFileSync(lock, '999999999\n');
  const release = acquireLock(lock);
  assert.equal(fs.readFileSync(lock, 'utf8'), `${process.pid}\n`);
  release();
  assert.equal(fs.existsSync(lock), false);
});

test('a journal line cut short is cut off before the next run appends, so nothing is lost later', () => {
  const dir = tempDir();
  fs.writeFileSync(path.join(dir, 'journal'), `${JSON.stringify({ op: 'put', task: 'a', record: toPlainRecord(record('r1')) })}\n{"op":"del","ta`);
  const store = loadState(dir, { journal: true });
  store.put('b', record('r2'));
  store.closeJournal();
  const after = loadState(dir, { journal: false });
  assert.deepEqual(after.warnings, []);
  assert.equal(after.get('a')?.result, 'r1');
  assert.equal(after.get('b')?.result, 'r2');
});

test('every field of a record, the digest cache and folder outputs survive a save and a load', async () => {
  const dir = tempDir();
  const store = loadState(dir, { journal: true });
  const full: TaskRecord = {
    parts: {
      name: 'link',
      runSource: 'run-digest',
      checkSource: '',
      command: '[["cc","-o","app","a.o","b.o"]]',
      values: { suite: 'bookworm', packages: ['a', 'b'], port: 4000, on: true, none: null },
      inputs: new Map([['src/a.c', 'digest-a'], ['src/b.c', 'digest-b']]),
      outputs: ['app', 'dist'],
      deps: new Map([['compile', 'result-c'], ['group', 'run:1234']]),
    },
    outputs: new Map([['/p/app', { kind: 'file', size: 12, mtimeMs: 1764401234567.123, digest: 'digest-a' }], ['/p/dist', { kind: 'dir' }]]),
    result: 'result-link',
    finishedAt: 1764401234999,
    durationMs: 42,
  };
  store.put('link', full);
  store.put('empty', record('r1'));
  store.files.set('/p/src/a.c', { size: 6, mtimeMs: 1.5, ctimeMs: 2.5, ino: 77, digest: 'digest-a' });
  store.closeJournal();
  assert.deepEqual(loadState(dir, { journal: false }).get('link'), full, 'through the journal');
  await saveState(dir, store);
  const loaded = loadState(dir, { journal: false });
  assert.deepEqual(loaded.warnings, []);
  assert.deepEqual(loaded.get('link'), full);
  assert.deepEqual(loaded.get('empty'), { ...record('r1'), parts: { ...record('r1').parts, name: 'empty' } });
  assert.deepEqual([...loaded.files], [['/p/src/a.c', { size: 6, mtimeMs: 1.5, ctimeMs: 2.5, ino: 77, digest: 'digest-a' }]]);
  assert.equal(loaded.changed, false, 'a store in the current format needs no rewrite');
});

test('a store written by version 1 keeps its records, and is rewritten in the current format', async () => {
  const dir = tempDir();
  const stamp = { size: 6, mtimeMs: 1.5, ctimeMs: 2.5, ino: 77, digest: 'digest-a' };
  fs.writeFileSync(path.join(dir, 'state.json'), JSON.stringify({ version: 1, tasks: { a: toPlainRecord(record('r1')) }, files: { '/p/a.c': stamp } }));
  const old = loadState(dir, { journal: true });
  assert.deepEqual(old.warnings, []);
  assert.equal(old.get('a')?.result, 'r1');
  assert.deepEqual(old.files.get('/p/a.c'), stamp);
  assert.equal(old.changed, true, 'to be saved in the current format even if nothing runs');
  await saveState(dir, old);
  assert.equal(JSON.parse(fs.readFileSync(path.join(dir, 'state.json'), 'utf8')).version, stateVersion);
  assert.equal(loadState(dir, { journal: false }).get('a')?.result, 'r1');
});

test('a store with a malformed record is a warning, not a crash later', () => {
  const dir = tempDir();
  for (const tasks of [{ a: { fingerprint: 1 } }, { a: { f: 0, r: 7, t: 1, ms: 1, run: 0, chk: 0, i: [], k: [], d: [], o: [] } }]) {
    fs.writeFileSync(path.join(dir, 'state.json'), JSON.stringify({ version: stateVersion, strings: ['x'], files: [], tasks }));
    const store = loadState(dir, { journal: false });
    assert.equal(store.tasks.size, 0);
    assert.match(store.warnings[0]!, /holds a malformed record for task 'a'/);
  }
});

test('a journal or store that cannot be read for another reason than missing is an error naming it, and changes nothing', async () => {
  const dir = tempDir();
  const store = loadState(dir, { journal: true });
  store.put('a', record('r1'));
  await saveState(dir, store);
  const saved = fs.readFileSync(path.join(dir, 'state.json'));
  // A folder where the journal goes reads as EISDIR, as EACCES or EIO would fail: the deletions
  // it may hold are unknown, so taking it as empty could call a task up to date that is not.
  fs.mkdirSync(path.join(dir, 'journal'));
  for (const journal of [true, false]) {
    assert.throws(() => loadState(dir, { journal }), (error: Error) => {
      assert.ok(error instanceof StateError, String(error));
      assert.match(error.message, new RegExp(`^cannot read the state journal ${path.join(dir, 'journal')}: EISDIR`));
      assert.doesNotMatch(error.message, /\n/);
      return true;
    });
  }
  assert.deepEqual(fs.readFileSync(path.join(dir, 'state.json')), saved, 'the store is untouched');
  fs.rmdirSync(path.join(dir, 'journal'));
  // The same for the store: taken as empty, its records would be lost at the next save.
  fs.renameSync(path.join(dir, 'state.json'), path.join(dir, 'saved.json'));
  fs.mkdirSync(path.join(dir, 'state.json'));
  assert.throws(() => loadState(dir, { journal: true }), /cannot read the state store .*state\.json: EISDIR/);
  fs.rmdirSync(path.join(dir, 'state.json'));
  fs.renameSync(path.join(dir, 'saved.json'), path.join(dir, 'state.json'));
  assert.equal(loadState(dir, { journal: false }).get('a')?.result, 'r1', 'the record is still there');
});
