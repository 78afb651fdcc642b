// The depfile parser on what gcc and clang write (-MMD -MF, -MP) and on ninja's escaping rules.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { parseDepfile, takeDepfile } from '../src/launch/depfile.ts';

test('one rule: the prerequisites, not the target', () => {
  assert.deepEqual(parseDepfile('obj/a.o: src/a.c include/a.h\n'), ['src/a.c', 'include/a.h']);
});

test('line continuations, as gcc wraps long rules', () => {
  const text = 'obj/main.o: src/main.c include/a.h \\\n include/b.h \\\n  include/c.h\n';
  assert.deepEqual(parseDepfile(text), ['src/main.c', 'include/a.h', 'include/b.h', 'include/c.h']);
});

test('CRLF line ends and continuations', () => {
  assert.deepEqual(parseDepfile('a.o: a.c \\\r\n a.h\r\n'), ['a.c', 'a.h']);
});

test("-MP's empty rules for each header add nothing and end nothing", () => {
  const text = 'obj/a.o: src/a.c include/a.h include/b.h\ninclude/a.h:\ninclude/b.h:\n';
  assert.deepEqual(parseDepfile(text), ['src/a.c', 'include/a.h', 'include/b.h']);
});

test('escaped spaces, $$ and \\# as gcc writes them', () => {
  // gcc for "my dir/a b.h", "cost$.h" and "no#te.h".
  const text = 'a.o: a.c my\\ dir/a\\ b.h cost$$.h no\\#te.h\n';
  assert.deepEqual(parseDepfile(text), ['a.c', 'my dir/a b.h', 'cost$.h', 'no#te.h']);
});

test('backslashes before a space: 2N+1 keep the space in the name, 2N end it', () => {
  assert.deepEqual(parseDepfile('a.o: x\\\\\\ y z\\\\ w\n'), ['x\\ y', 'z\\', 'w']);
});

test('several targets, a spaced colon, several rules, duplicates named once', () => {
  const text = 'a.o a.d : a.c common.h\nb.o: b.c common.h\n';
  assert.deepEqual(parseDepfile(text), ['a.c', 'common.h', 'b.c']);
});

test('a colon inside a word (a Windows drive) is not the end of the targets', () => {
  assert.deepEqual(parseDepfile('a.o: C:\\src\\a.c\n'), ['C:\\src\\a.c']);
});

test('empty text, and a rule with no prerequisite, name nothing', () => {
  assert.deepEqual(parseDepfile(''), []);
  assert.deepEqual(parseDepfile('a.o:\n'), []);
  assert.deepEqual(parseDepfile('a.o: a.c'), ['a.c'], 'no final line end');
});

test('takeDepfile reads and removes the file; a missing one is undefined', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'depfile-'));
  try {
    const file = path.join(dir, 'a.d');
    fs.writeFileSync(file, 'a.o: a.c a.h\n');
    assert.deepEqual(takeDepfile(file), ['a.c', 'a.h']);
    assert.equal(fs.existsSync(file), false);
    assert.equal(takeDepfile(file), undefined);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('what gcc really writes with -MMD -MP parses to the sources and headers it read', { skip: !hasCompiler() }, async () => {
  const { execFileSync } = await import('node:child_process');
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'depfile-gcc-'));
  try {
    fs.mkdirSync(path.join(dir, 'my inc'));
    fs.writeFileSync(path.join(dir, 'my inc', 'a b.h'), '#define A 1\n');
    fs.writeFileSync(path.join(dir, 'x.h'), '#define X 2\n');
    fs.writeFileSync(path.join(dir, 'a.c'), '#include "my inc/a b.h"\n#include "x.h"\n#include <stdio.h>\nint a = A + X;\n');
    execFileSync('cc', ['-MMD', '-MP', '-MF', 'a.d', '-c', 'a.c', '-o', 'a.o'], { cwd: dir });
    assert.deepEqual(parseDepfile(fs.readFileSync(path.join(dir, 'a.d'), 'utf8')), ['a.c', 'my inc/a b.h', 'x.h']);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

function hasCompiler(): boolean {
  return (process.env.PATH ?? '').split(':').some((dir) => fs.existsSync(path.join(dir, 'cc')));
}
