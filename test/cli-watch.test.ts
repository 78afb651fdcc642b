// --watch through the real CLI: build, wait for the files to change, build what they affect,
// and Ctrl-C ends it with exit 130 and no lock left. No timing is asserted: the tests wait for
// output, with generous time limits, and pause a second where they check that nothing happens.
import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import { after, test } from 'node:test';
import { finished, Project, projectMaker, type CliResult } from './helpers/cli-rig.ts';

const project = projectMaker(after);
const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** A running `task --watch`, its output so far, and waits for more. */
class Watching {
  stdout = '';
  stderr = '';
  readonly done: Promise<CliResult>;

  constructor(readonly child: ChildProcess) {
    child.stdout!.setEncoding('utf8').on('data', (d: string) => (this.stdout += d));
    child.stderr!.setEncoding('utf8').on('data', (d: string) => (this.stderr += d));
    this.done = finished(child);
  }

  /** How many times a line matching `pattern` has been printed. */
  count(pattern: RegExp): number {
    return [...this.stdout.matchAll(new RegExp(pattern.source, 'gm'))].length;
  }

  /** Waits until `pattern` has been printed `times` times in all. */
  async waitFor(pattern: RegExp, times: number, ms = 30_000): Promise<void> {
    const until = Date.now() + ms;
    while (this.count(pattern) < times) {
      if (Date.now() > until || this.child.exitCode !== null) {
        throw new Error(`waited for ${times} × ${pattern}; stdout:\n${this.stdout}\nstderr:\n${this.stderr}`);
      }
      await pause(25);
    }
  }

  /** Waits for the n-th "watching" line: the n-th build is over and the watchers are ready. */
  async watching(n: number): Promise<void> {
    await this.waitFor(/^task: watching /, n);
  }

  /** The output of the n-th build (1: the first): from after the (n-1)-th "watching" line to the n-th. */
  build(n: number): string {
    const parts = this.stdout.split(/^task: watching .*\n/m);
    return parts[n - 1] ?? '';
  }
}

const ran = (output: string) => Project.ran({ code: 0, stdout: output, stderr: '' }).sort();

const taskfile = `
const a = task('a', { inputs: ['a.txt'], outputs: ['out/a'], command: ['cp', 'a.txt', 'out/a'] });
const b = task('b', { inputs: ['b.txt'], outputs: ['out/b'], command: ['cp', 'b.txt', 'out/b'] });
const g = task('g', { inputs: ['src/*.txt'], outputs: ['out/g'], command: ['sh', '-c', 'cat src/*.txt > out/g'] });
const c = task('c', { deps: [a, b, g], outputs: ['out/c'], command: ['sh', '-c', 'cat out/a out/b out/g > out/c'] });
export default task('all', { deps: [c] });
`;

function start(p: Project, ...args: string[]): Watching {
  return new Watching(p.spawn(['--watch', '--progress=plain', ...args]));
}

test('--watch builds, then builds again exactly what an edited input or a new glob match affects; Ctrl-C exits 130 with the lock released', async () => {
  const p = project(taskfile);
  p.write('a.txt', 'a\n');
  p.write('b.txt', 'b\n');
  p.write('src/one.txt', '1\n');
  const w = start(p);
  try {
    await w.watching(1);
    assert.deepEqual(ran(w.build(1)), ['a', 'b', 'c', 'g']);
    assert.match(w.stdout, /^task: watching 3 inputs and the Taskfile for changes \(Ctrl-C to stop\)$/m);

    p.write('a.txt', 'a, edited\n');
    await w.watching(2);
    assert.match(w.build(2), /^task: a\.txt changed; building again$/m);
    assert.deepEqual(ran(w.build(2)), ['a', 'c']);
    assert.equal(p.read('out/c'), 'a, edited\nb\n1\n');

    // What the build wrote (out/, .task/) starts no build: a second of quiet, then a new match of src/*.txt.
    await pause(1000);
    assert.equal(w.count(/^task: watching /), 2);
    p.write('src/two.txt', '2\n');
    await w.watching(3);
    assert.match(w.build(3), /^task: src\/two\.txt changed; building again$/m);
    assert.deepEqual(ran(w.build(3)), ['c', 'g']);
    // A file beside the inputs that is none of them starts nothing.
    p.write('notes.txt', 'not an input\n');
    p.write('src/readme.md', 'not a match\n');
    await pause(1000);
    assert.equal(w.count(/building again$/), 2);
  } finally {
    w.child.kill('SIGINT');
  }
  const result = await w.done;
  assert.equal(result.code, 130, result.stderr);
  assert.equal(p.exists('.task/lock'), false);
  assert.doesNotMatch(result.stderr, /\n\s+at /);
});

test('--watch: a failing build and a Taskfile that does not load are reported, and watching goes on; a Taskfile edit is loaded', async () => {
  const p = project(`
export default task('a', { inputs: ['a.txt'], outputs: ['out/a'], values: { n: 1 }, command: ['sh', '-c', '! grep -q fail a.txt && cp a.txt out/a'] });
`);
  p.write('a.txt', 'ok\n');
  const w = start(p);
  try {
    await w.watching(1);
    assert.deepEqual(ran(w.build(1)), ['a']);

    p.write('a.txt', 'fail\n');
    await w.watching(2);
    // The summary (on stdout or stderr, as the display puts it) says it failed.
    assert.match(w.build(2) + w.stderr, /\b1 failed\b/);
    p.write('a.txt', 'ok again\n');
    await w.watching(3);
    assert.deepEqual(ran(w.build(3)), ['a']);
    assert.equal(p.read('out/a'), 'ok again\n');

    // The Taskfile edited: loaded afresh, and its changed task runs.
    p.write('Taskfile.ts', p.read('Taskfile.ts').replace('n: 1', 'n: 2'));
    await w.watching(4);
    assert.match(w.build(4), /^task: Taskfile\.ts changed; building again$/m);
    assert.match(w.build(4), /^a: running \(.*n/m);
    // Broken, then mended.
    const good = p.read('Taskfile.ts');
    p.write('Taskfile.ts', `${good}\nexport const broken = ;\n`);
    await w.watching(5);
    assert.match(w.build(5), /^task: .*Taskfile\.ts:\d+: syntax error/m);
    p.write('Taskfile.ts', good.replace('n: 2', 'n: 3'));
    await w.watching(6);
    assert.deepEqual(ran(w.build(6)), ['a']);
  } finally {
    w.child.kill('SIGINT');
  }
  assert.equal((await w.done).code, 130);
  assert.equal(p.exists('.task/lock'), false);
});

test('--watch: changes made while a build runs make exactly one more build after it', async () => {
  // a's command waits for the file `go`, so that the test can edit a.txt while it runs.
  const p = project(`
export default task('a', { inputs: ['a.txt'], outputs: ['out/a'], command: ['sh', '-c', 'touch started; while [ ! -e go ]; do sleep 0.02; done; cp a.txt out/a'] });
`);
  p.write('a.txt', '1\n');
  p.write('go', '');
  const w = start(p);
  try {
    await w.watching(1);
    fs.rmSync(p.path('go'));
    fs.rmSync(p.path('started'));
    p.write('a.txt', '2\n');
    await w.waitFor(/^a: running/, 2);
    // The build is running, held at `go`: two more edits, then let it finish.
    while (!p.exists('started')) await pause(25);
    p.write('a.txt', '3\n');
    await pause(300);
    p.write('a.txt', '4\n');
    await pause(300);
    p.write('go', '');
    await w.watching(3);
    assert.deepEqual(ran(w.build(3)), ['a']);
    assert.equal(p.read('out/a'), '4\n');
    await pause(1000);
    assert.equal(w.count(/^a: running/), 3);
  } finally {
    w.child.kill('SIGINT');
  }
  assert.equal((await w.done).code, 130);
});

test('--watch rebuilds when an input named only by a depfile, or given to ctx.discovered, changes; a generated one starts nothing', async () => {
  // "cc" reads main.c and the header it includes, and writes a depfile naming both (gcc -MMD's);
  // scan's run reports what it read through ctx.discovered. Neither file is a declared input.
  const p = project(`
import fs from 'node:fs';
const cc = task('cc', { inputs: ['main.c'], outputs: ['out/main.o'], depfile: 'out/main.d',
  command: ['sh', '-c', 'cat main.c inc/h.h > out/main.o && printf "out/main.o: main.c inc/h.h out/gen.h\\n" > out/main.d'] });
const gen = task('gen', { outputs: ['out/gen.h'], command: ['sh', '-c', 'echo generated > out/gen.h'] });
const scan = task('scan', { outputs: ['out/list'], run: async (ctx) => {
  fs.writeFileSync('out/list', fs.readFileSync('data/list.txt', 'utf8'));
  ctx.discovered(['data/list.txt']);
} });
export default task('all', { deps: [cc, gen, scan] });
`);
  p.write('main.c', 'int main;\n');
  p.write('inc/h.h', '#define H 1\n');
  p.write('data/list.txt', 'one\n');
  const w = start(p);
  try {
    await w.watching(1);
    assert.deepEqual(ran(w.build(1)), ['cc', 'gen', 'scan']);
    // The declared input, the depfile's header and the discovered file (the generated header is an output).
    assert.match(w.stdout, /^task: watching 3 inputs and the Taskfile for changes/m);

    p.write('inc/h.h', '#define H 2\n');
    await w.watching(2);
    assert.match(w.build(2), /^task: inc\/h\.h changed; building again$/m);
    assert.deepEqual(ran(w.build(2)), ['cc']);
    assert.equal(p.read('out/main.o'), 'int main;\n#define H 2\n');

    p.write('data/list.txt', 'two\n');
    await w.watching(3);
    assert.match(w.build(3), /^task: data\/list\.txt changed; building again$/m);
    assert.deepEqual(ran(w.build(3)), ['scan']);
    assert.equal(p.read('out/list'), 'two\n');
  } finally {
    w.child.kill('SIGINT');
  }
  assert.equal((await w.done).code, 130);
});

test('--watch with a mode that builds nothing, or with --clean, is refused (exit 2) before anything happens', async () => {
  const p = project(taskfile);
  for (const [flag, why] of [['-n', 'it builds nothing'], ['-q', 'it builds nothing'], ['--explain', 'it builds nothing'], ['--graph', 'it builds nothing'], ['--list', 'it builds nothing'], ['--clean', 'it removes what --watch would build']]) {
    const result = await p.run('--watch', flag!);
    assert.equal(result.code, 2, flag);
    assert.match(result.stderr, new RegExp(`^task: --watch cannot be combined with ${flag}: ${why}`), flag);
  }
  assert.equal(p.exists('.task'), false);
});
