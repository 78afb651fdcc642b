// bin/task.js runs the engine bundled in dist/ when it is current, and src/ itself after an
// edit: tested on a copy of the checkout (bin, src, scripts, package.json, node_modules linked), so that
// its files can be edited and dated at will.
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { repo } from './helpers/cli-rig.ts';

let copy = '';

before(() => {
  copy = fs.mkdtempSync(path.join(os.tmpdir(), 'task-loader-'));
  for (const entry of ['bin', 'src', 'scripts', 'package.json', 'tsconfig.json']) {
    fs.cpSync(path.join(repo, entry), path.join(copy, entry), { recursive: true });
  }
  fs.symlinkSync(fs.realpathSync(path.join(repo, 'node_modules')), path.join(copy, 'node_modules'));
  bundle();
});
after(() => fs.rmSync(copy, { recursive: true, force: true }));

function bundle() {
  execFileSync(process.execPath, [path.join(copy, 'scripts/bundle-engine.js')], { cwd: copy });
}

/** The bundled file that holds the usage text. */
const builtUsage = () => {
  const dist = path.join(copy, 'dist');
  const file = fs.readdirSync(dist).find((name) => fs.readFileSync(path.join(dist, name), 'utf8').includes('usage: task [options]'));
  assert.ok(file, 'the bundle holds the usage text');
  return path.join(dist, file);
};

const task = (...args: string[]) => {
  const result = spawnSync(process.execPath, [path.join(copy, 'bin/task.js'), ...args], { cwd: copy, encoding: 'utf8', env: { ...process.env, CI: '' } });
  return { code: result.status, stdout: result.stdout, stderr: result.stderr };
};

/** Appends a marker to the usage text of a source or built file, dated `secondsAgo` in the past. */
function mark(file: string, marker: string, secondsAgo: number): void {
  const text = fs.readFileSync(file, 'utf8');
  fs.writeFileSync(file, text.replace('usage: task [options]', `usage: task [options] ${marker}`));
  const when = new Date(Date.now() - secondsAgo * 1000);
  fs.utimesSync(file, when, when);
}

test('a start loads few of the bundled engine\'s modules, and none of the libraries a build or the display needs', () => {
  // Node's ESM loader pays for each module: the CLI and what it imports at once, followed from dist/cli.js.
  const dist = path.join(copy, 'dist');
  const loaded = new Set<string>();
  const libraries = new Set<string>();
  const follow = (file: string) => {
    if (loaded.has(file)) return;
    loaded.add(file);
    const text = fs.readFileSync(path.join(dist, file), 'utf8');
    for (const [, specifier] of text.matchAll(/^(?:import|export)\b[^;]*?["']([^"']+)["'];?$/gm)) {
      if (specifier!.startsWith('./')) follow(specifier!.slice(2));
      else if (!specifier!.startsWith('node:')) libraries.add(specifier!);
    }
  };
  follow('cli.js');
  assert.ok(loaded.size <= 4, `a start loads ${loaded.size} modules: ${[...loaded].join(', ')}`);
  assert.deepEqual([...libraries], [], 'a start loads no library: execa, listr2, p-graph and chokidar wait for their lazy imports');
});

test('a dist/ newer than src/ is what runs', () => {
  mark(builtUsage(), 'BUILT', 0);
  assert.match(task('--help').stdout, /usage: task \[options\] BUILT/);
});

test('an edit of src/ runs at once, never the older dist/', () => {
  mark(path.join(copy, 'src/cli/args.ts'), 'EDITED', -5);
  const help = task('--help').stdout;
  assert.match(help, /EDITED/);
  assert.doesNotMatch(help, /BUILT/);
});

test('with dist/ current, a Taskfile importing src/index.ts declares into the engine that runs it', () => {
  bundle();
  assert.match(task('--help').stdout, /EDITED/, 'the rebuilt dist/ runs');
  const dir = path.join(copy, 'project');
  fs.mkdirSync(dir);
  fs.writeFileSync(
    path.join(dir, 'Taskfile.ts'),
    `import { task, TaskFailure } from ${JSON.stringify(path.join(copy, 'src/index.ts'))};
const ok = task('ok', { outputs: ['ok.txt'], run: async (ctx) => (await import('node:fs')).writeFileSync(ctx.root + '/ok.txt', 'ok') });
const bad = task('bad', { run: () => { throw new TaskFailure('refused on purpose'); } });
export default task('all', { deps: [ok, bad] });
`,
  );
  const result = task('-C', dir, '-k');
  assert.equal(result.code, 1, result.stderr);
  assert.match(result.stderr, /task 'bad' failed: refused on purpose\n/);
  // A TaskFailure is a message, not a crash: no stack trace under it.
  assert.doesNotMatch(result.stdout, /refused on purpose\n\s+at /);
  assert.match(result.stderr, /task: 1 ran, 1 failed/);
  assert.equal(fs.readFileSync(path.join(dir, 'ok.txt'), 'utf8'), 'ok');
});
