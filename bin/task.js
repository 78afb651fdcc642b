#!/usr/bin/env node
// The `task` command. The engine runs bundled from dist/ (scripts/bundle-engine.js, run by npm's
// `prepare` step, `npm run build` by hand) when dist/cli.js is newer than every src/**/*.ts;
// otherwise, after an edit of src/, from src/ itself through jiti, so that stale code never runs.
// Loading the engine through jiti costs about 0.05 s a start. The Taskfile is TypeScript: jiti
// compiles it, and later starts run the code it compiled until a module of it changes (without
// loading jiti). An installed package has no src/ (package.json's `files`): it runs dist/.
// CommonJS (bin/package.json says so): a no-op answered by dist/quick-no-op.cjs then never
// starts Node's ESM loader, which costs about 10 ms; the engine itself is ESM, imported after.
const fs = require('node:fs');
const path = require('node:path');
const { Module } = require('node:module');

// Node 22.1 and later keep compiled code on disk for the next start; Node 20 has no such cache.
Module.enableCompileCache?.();

const src = path.join(__dirname, '../src/');
const dist = path.join(__dirname, '../dist/');

const argv = process.argv.slice(2);
const bundled = !fs.existsSync(`${src}cli/main.ts`) || require('./bundle-state.js').bundleIsCurrent();
// A no-op the load record and the snapshot answer needs neither jiti nor the Taskfile (src/cli/quick-no-op.ts).
// Its one line goes straight to fd 2: process.stderr would load the tty and net modules first.
const stderr = { write: (text) => fs.writeSync(2, text) };
const quick = bundled ? require('../dist/quick-no-op.cjs').answerNoOp(argv, { cwd: process.cwd(), env: process.env, stderr }) : undefined;
if (quick !== undefined) process.exit(quick);
runCommand().then((status) => process.exit(status));

async function runCommand() {
  // A Taskfile imports the API by the package's name (or by the path of src/index.ts, below). The
  // name is an alias for this engine's own entry, whatever node_modules holds: jiti imports a .js
  // module of this "type": "module" package natively, so it gets the very module the engine runs
  // (one TaskFailure class, one registry), and src/index.ts through jiti's own module cache.
  const { name } = require('../package.json');
  const alias = { [name]: bundled ? `${dist}index.js` : `${src}index.ts` };
  // jiti's CommonJS entry: importing it as ESM makes Node scan its 190 KB bundle for export names.
  const makeJiti = (file, options) => require('jiti').createJiti(file, { sourceMaps: true, alias, ...options });
  if (!bundled) {
    const jiti = makeJiti(__filename);
    const { main } = await jiti.import('../src/cli/main.ts');
    return main(argv, { importModule: (file) => jiti.import(file) });
  }
  const { main, taskfileImporter } = await import('../dist/cli.js');
  // Taskfiles import the API by the path of src/index.ts. jiti looks a resolved path up in
  // Node's module cache first: entered there, that import gets the engine's own module (one
  // TaskFailure class, one registry) instead of a second copy compiled from src/.
  const api = new Module(`${src}index.ts`);
  api.filename = api.id;
  api.exports = await import('../dist/index.js');
  api.loaded = true;
  require.cache[api.id] = api;
  // The Taskfile runs from the code jiti compiled for it last time when none of its modules
  // changed: jiti is then never loaded (src/cli/taskfile-importer.ts).
  const importModule = taskfileImporter({
    makeJiti,
    jitiVersion: jitiVersion(),
    api: { files: new Set([`${src}index.ts`, `${dist}index.js`]), exports: api.exports },
  });
  // Exit when main returns: a `run` abandoned after Ctrl-C must not keep the process alive without the lock.
  return main(argv, { importModule });
}

/**
 * The version of the jiti that require('jiti') loads: the package's own node_modules is where
 * Node looks first. Reading that file costs 0.3 ms; resolving 'jiti/package.json' through the
 * package's exports, 3.5 ms of every start.
 */
function jitiVersion() {
  try {
    return JSON.parse(fs.readFileSync(path.join(__dirname, '../node_modules/jiti/package.json'), 'utf8')).version;
  } catch {
    return require('jiti/package.json').version;
  }
}
