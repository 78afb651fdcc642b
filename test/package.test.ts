// The engine as a package for another project: packed as `npm pack` packs this checkout,
// installed from the tarball into a project outside it without the network, and used there as its
// user would: `npx task`, `import { task } from 'execd-builder'` with types, `task --init`.
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { finished, repo, type CliResult } from './helpers/cli-rig.ts';

const npmMissing = spawnSync('npm', ['--version']).error ? 'needs npm (it comes with Node.js)' : false;
const ccFound = [process.env.CC, 'cc', 'gcc', 'clang'].some((compiler) => compiler && !spawnSync(compiler, ['--version']).error);
const manifest = JSON.parse(fs.readFileSync(path.join(repo, 'package.json'), 'utf8')) as { name: string; version: string; dependencies: Record<string, string>; optionalDependencies?: Record<string, string>; bin: Record<string, string> };
const { name } = manifest;

const work = fs.mkdtempSync(path.join(os.tmpdir(), 'task-package-'));
after(() => fs.rmSync(work, { recursive: true, force: true }));
const consumer = path.join(work, 'consumer');

// The child npm and task see neither this test's npm run (npm_* of `npm test` name this checkout
// as the project) nor CI's variables; npm's cache and configuration stay the user's.
const env: NodeJS.ProcessEnv = { CI: '', NODE_OPTIONS: '', TASK_CACHE_DIR: path.join(work, 'task-cache'), TASK_CACHE_URL: '' };
for (const [key, value] of Object.entries(process.env)) {
  if (key in env || key === 'INIT_CWD') continue;
  if (/^npm_/i.test(key) && !/^npm_config_(cache|userconfig|globalconfig)$/i.test(key)) continue;
  env[key] = value;
}

function run(command: string, args: string[], cwd = consumer): Promise<CliResult> {
  return finished(spawn(command, args, { cwd, env, stdio: ['ignore', 'pipe', 'pipe'] }));
}
const task = (...args: string[]) => run(path.join(consumer, 'node_modules/.bin/task'), args);
const tsc = () => run(process.execPath, [path.join(repo, 'node_modules/typescript/bin/tsc'), '-p', consumer]);

let packed: string[] = [];
let installed: CliResult | undefined;

before(async () => {
  if (npmMissing) return;
  // A copy of the checkout without what a build or a run leaves (its dist/ and types/ too), and
  // with this checkout's node_modules: npm runs `prepare` there as it would in a clone, without
  // rewriting the dist/ that other tests run meanwhile.
  const stage = path.join(work, 'stage');
  const left = new Set(['node_modules', '.git', 'dist', 'types', '.task', 'build']);
  fs.cpSync(repo, stage, { recursive: true, filter: (file) => !left.has(path.basename(file)) || path.dirname(file) !== repo });
  fs.symlinkSync(path.join(repo, 'node_modules'), path.join(stage, 'node_modules'));
  const pack = await run('npm', ['pack', '--json', '--pack-destination', work], stage);
  assert.equal(pack.code, 0, pack.stderr);
  const [{ filename, files }] = JSON.parse(pack.stdout) as [{ filename: string; files: { path: string }[] }];
  packed = files.map((file) => file.path);
  const tarball = `file:../${filename}`;

  // `npm ci` leaves the locked dependencies' tarballs in npm's cache, but not the registry's
  // documents that resolving a range needs: the project's lock pins the versions this checkout's
  // lock pins, as a project's own lock would, and --offline keeps npm off the network.
  const lock = JSON.parse(fs.readFileSync(path.join(repo, 'package-lock.json'), 'utf8')) as { packages: Record<string, { dev?: boolean }> };
  const packages: Record<string, unknown> = {
    '': { name: 'consumer', dependencies: { [name]: tarball } },
    [`node_modules/${name}`]: { version: manifest.version, resolved: tarball, hasInstallScript: true, dependencies: manifest.dependencies, optionalDependencies: manifest.optionalDependencies, bin: manifest.bin },
  };
  for (const [where, entry] of Object.entries(lock.packages)) if (where !== '' && !entry.dev) packages[where] = entry;
  fs.mkdirSync(consumer);
  fs.writeFileSync(path.join(consumer, 'package.json'), JSON.stringify({ name: 'consumer', private: true, type: 'module', dependencies: { [name]: tarball } }, null, 2));
  fs.writeFileSync(path.join(consumer, 'package-lock.json'), JSON.stringify({ name: 'consumer', lockfileVersion: 3, requires: true, packages }, null, 2));
  installed = await run('npm', ['install', '--offline', '--no-audit', '--no-fund']);
});

/** Skips a test when npm is missing; fails it (every test after the install) when the install did. */
function whenInstalled(t: { skip(reason: string): void }): boolean {
  if (npmMissing) {
    t.skip(npmMissing);
    return false;
  }
  assert.ok(installed, 'npm pack failed');
  const hint = /ENOTCACHED/.test(installed.stderr) ? '(npm\'s cache lacks a locked dependency: was it cleaned since `npm ci`?)\n' : '';
  assert.equal(installed.code, 0, `npm install --offline of the tarball failed ${hint}${installed.stderr}`);
  return true;
}

test('the tarball holds the engine built (dist/, types/), the spawn helper\'s source and build, the README; no tests, benches, recipe or engine source', { skip: npmMissing }, () => {
  for (const file of ['package.json', 'README.md', 'bin/task.js', 'dist/cli.js', 'dist/index.js', 'types/index.d.ts', 'types/taskfile/types.d.ts', 'src/launch/spawn-helper/spawn-helper.c', 'src/launch/spawn-helper/build.js']) {
    assert.ok(packed.includes(file), `${file} is not in the tarball: ${packed.join(' ')}`);
  }
  const unwanted = packed.filter((file) => /^(test|bench|tasks|execd|examples|docs|scripts|\.ci)\//.test(file) || file === 'Taskfile.ts' || /^src\/.*\.ts$/.test(file));
  assert.deepEqual(unwanted, []);
});

test('installed from the tarball: npx task builds the project\'s Taskfile, which imports the package by name; a second run is a no-op', async (t) => {
  if (!whenInstalled(t)) return;
  assert.equal(fs.existsSync(path.join(consumer, 'node_modules', name, 'src/index.ts')), false, 'the installed package runs its dist/, it has no src/');
  // The install script built the spawn helper where a compiler is; without one, commands start through Node.
  const cache = path.join(consumer, 'node_modules', name, 'node_modules/.cache', name);
  const helpers = fs.existsSync(cache) ? fs.readdirSync(cache) : [];
  assert.equal(helpers.some((file) => /^spawn-helper-[0-9a-f]{16}$/.test(file)), ccFound, `helpers built: ${helpers.join(' ')}`);

  fs.writeFileSync(
    path.join(consumer, 'Taskfile.ts'),
    `import { param, task, TaskFailure, type TaskContext } from '${name}';

const greeting = param('greeting', 'hello', 'what out/hello.txt says');

const hello = task('hello', {
  values: { greeting },
  outputs: ['out/hello.txt'],
  run: async (ctx: TaskContext) => {
    await ctx.exec('sh', ['-c', 'printf "%s, world\\\\n" "$1" > out/hello.txt && echo ran >> runs.log', 'sh', String(ctx.values.greeting)]);
  },
});

// A TaskFailure is reported as its message alone: only if it is the engine's own class.
task('refuse', { always: true, run: () => { throw new TaskFailure('refused on purpose'); } });

export default task('all', { deps: [hello] });
`,
  );
  const first = await run('npx', ['--offline', 'task']);
  assert.equal(first.code, 0, first.stdout + first.stderr);
  assert.match(first.stdout, /^hello: running \(/m);
  assert.equal(fs.readFileSync(path.join(consumer, 'out/hello.txt'), 'utf8'), 'hello, world\n');

  const again = await run('npx', ['--offline', 'task']);
  assert.equal(again.code, 0, again.stdout + again.stderr);
  assert.doesNotMatch(again.stdout, /running/);
  assert.equal(fs.readFileSync(path.join(consumer, 'runs.log'), 'utf8'), 'ran\n', 'the second run ran the task again');
  assert.equal((await task('-q')).code, 0, 'task -q: the build is not up to date');

  const hi = await task('greeting=hi');
  assert.equal(hi.code, 0, hi.stderr);
  assert.equal(fs.readFileSync(path.join(consumer, 'out/hello.txt'), 'utf8'), 'hi, world\n');

  const refused = await task('refuse');
  assert.equal(refused.code, 1);
  assert.match(refused.stderr, /^task 'refuse' failed: refused on purpose$/m, 'the Taskfile\'s TaskFailure is another class than the engine\'s');
});

test('the consumer\'s tsc checks its Taskfile against the package\'s types: a correct one passes, a wrong one is reported', async (t) => {
  if (!whenInstalled(t)) return;
  // The project's own TypeScript setup; @types/node as a TypeScript project has it (from this checkout).
  fs.writeFileSync(
    path.join(consumer, 'tsconfig.json'),
    JSON.stringify({
      compilerOptions: { target: 'ES2022', module: 'NodeNext', moduleResolution: 'NodeNext', strict: true, noEmit: true, skipLibCheck: false, typeRoots: [path.join(repo, 'node_modules/@types')], types: ['node'] },
      include: ['*.ts'],
    }),
  );
  fs.writeFileSync(path.join(consumer, 'Taskfile.ts'), `import { param, task } from '${name}';\nconst port = param('port', 8080, 'the port');\nexport default task('serve', { values: { port }, run: async (ctx) => ctx.log(\`next: \${port + 1}\`) });\n`);
  const good = await tsc();
  assert.equal(good.code, 0, good.stdout + good.stderr);

  fs.writeFileSync(path.join(consumer, 'wrong.ts'), `import { param, task } from '${name}';\nconst port: string = param('port', 8080, 'the port');\ntask('serve', { outptus: ['a'], values: { port } });\n`);
  const bad = await tsc();
  fs.rmSync(path.join(consumer, 'wrong.ts'));
  assert.notEqual(bad.code, 0);
  assert.match(bad.stdout, /wrong\.ts\(2,7\): error TS2322: Type 'number' is not assignable to type 'string'/);
  assert.match(bad.stdout, /wrong\.ts\(3,17\): error TS\d+: .*'outptus' does not exist in type 'TaskSpec'/);
});

test('task --init in a folder of the project writes a Taskfile importing the package by name, which builds as it is', async (t) => {
  if (!whenInstalled(t)) return;
  const starter = path.join(consumer, 'starter');
  fs.mkdirSync(starter);
  const init = await task('-C', starter, '--init');
  assert.equal(init.code, 0, init.stderr);
  assert.match(fs.readFileSync(path.join(starter, 'Taskfile.ts'), 'utf8'), new RegExp(`^import \\{ param, task \\} from '${name}';$`, 'm'));
  const build = await task('-C', starter);
  assert.equal(build.code, 0, build.stdout + build.stderr);
  assert.equal(fs.readFileSync(path.join(starter, 'build/hello.txt'), 'utf8'), 'hello, world\n');
});

test('the installed task --init outside any project (a task installed globally, say) imports the package by name too, and that Taskfile builds', async (t) => {
  if (!whenInstalled(t)) return;
  // No node_modules here or above: the name resolves to the engine of the task that loads it.
  const elsewhere = path.join(work, 'elsewhere');
  fs.mkdirSync(elsewhere);
  const init = await task('-C', elsewhere, '--init');
  assert.equal(init.code, 0, init.stderr);
  assert.match(fs.readFileSync(path.join(elsewhere, 'Taskfile.ts'), 'utf8'), new RegExp(`^import \\{ param, task \\} from '${name}';$`, 'm'));
  const build = await task('-C', elsewhere, 'greeting=hey');
  assert.equal(build.code, 0, build.stdout + build.stderr);
  assert.equal(fs.readFileSync(path.join(elsewhere, 'build/hello.txt'), 'utf8'), 'hey, world\n');
});
