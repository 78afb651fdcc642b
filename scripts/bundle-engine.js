#!/usr/bin/env node
// Bundles the engine (src/) into dist/ with esbuild: `npm run build`, and npm's `prepare` step.
// One module per entry (cli.js, index.js) plus shared chunks, and one chunk per lazy import, so
// that a no-op still loads neither the build code nor execa. Fewer modules than one per source
// file start about 10-20 ms sooner (Node's ESM loader pays per module).
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const dist = path.join(root, 'dist');
const { build } = await import('esbuild');
const options = {
  absWorkingDir: root,
  outdir: 'dist',
  bundle: true,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  // Dependencies stay in node_modules, loaded when (and only if) the engine imports them.
  packages: 'external',
  metafile: true,
  logLevel: 'warning',
};
// Each module src/ imports lazily (`import('./x.ts')`) is made to import the CLI's entry too: it
// is loaded by then anyway, and the code the CLI shares with lazy modules then lands in two
// chunks instead of one chunk per set of lazy modules that share it. A start loads 3 of the
// engine's modules instead of 22; Node's ESM loader pays about 0.6 ms for each.
const cliEntry = path.join(root, 'src/cli/main.ts');
const lazyModules = new Set();
for (const file of fs.readdirSync(path.join(root, 'src'), { recursive: true })) {
  if (!file.endsWith('.ts')) continue;
  const source = fs.readFileSync(path.join(root, 'src', file), 'utf8');
  for (const [, specifier] of source.matchAll(/\bimport\(\s*['"](\.{1,2}\/[^'"]+\.ts)['"]\s*\)/g)) {
    lazyModules.add(path.resolve(root, 'src', path.dirname(file), specifier));
  }
}
const lazyJoinsCli = {
  name: 'lazy-joins-cli',
  setup(build) {
    build.onLoad({ filter: /\.ts$/ }, (args) => {
      if (!lazyModules.has(args.path)) return undefined;
      return { contents: `${fs.readFileSync(args.path, 'utf8')}\nimport ${JSON.stringify(cliEntry)};\n`, loader: 'ts' };
    });
  },
};
const result = await build({ ...options, entryPoints: { cli: 'src/cli/main.ts', index: 'src/index.ts' }, splitting: true, plugins: [lazyJoinsCli] });
// The quick no-op (src/cli/quick-no-op.ts) as one module of its own: bin/task.js loads it before
// anything else, and every module more costs a no-op about a millisecond.
// CommonJS, loaded with require by bin/task.js (CommonJS too): Node's ESM loader never starts.
// In CommonJS output esbuild wraps each built-in it requires in a copy of its exports (__toESM:
// a getter per property, about 1.4 ms for this module's dozen imports of fs and path). The
// engine imports built-ins by default (`import fs from 'node:fs'`) or by name, so each is handed
// over as it is: the default is the module, a named import the property of that name.
const namedImports = new Map();
for (const file of fs.readdirSync(path.join(root, 'src'), { recursive: true })) {
  if (!file.endsWith('.ts')) continue;
  const source = fs.readFileSync(path.join(root, 'src', file), 'utf8');
  for (const [, names, builtin] of source.matchAll(/^import (?!type\b)[^;{]*\{([^}]*)\} from '(node:[a-z_/]+)';/gm)) {
    const known = namedImports.get(builtin) ?? new Set();
    for (const name of names.split(',').map((n) => n.trim()).filter((n) => n && !n.startsWith('type '))) known.add(name.split(/\s+as\s+/)[0]);
    namedImports.set(builtin, known);
  }
}
const builtinsAsTheyAre = {
  name: 'builtins-as-they-are',
  setup(build) {
    build.onResolve({ filter: /^node:/ }, (args) => (args.namespace === 'builtin' ? { path: args.path, external: true } : { path: args.path, namespace: 'builtin', sideEffects: false }));
    build.onLoad({ filter: /.*/, namespace: 'builtin' }, (args) => {
      const names = [...(namedImports.get(args.path) ?? [])];
      const named = names.length > 0 ? `export const { ${names.join(', ')} } = builtin;\n` : '';
      return { contents: `const builtin = require(${JSON.stringify(args.path)});\nexport default builtin;\n${named}`, loader: 'js' };
    });
  },
};
const quick = await build({
  ...options,
  entryPoints: { 'quick-no-op': 'src/cli/quick-no-op.ts' },
  plugins: [builtinsAsTheyAre],
  format: 'cjs',
  outExtension: { '.js': '.cjs' },
  define: { 'import.meta.url': 'importMetaUrl' },
  banner: { js: "const importMetaUrl = require('node:url').pathToFileURL(__filename).href;" },
});

// Chunk names carry a hash, so an earlier build's chunks are left over. A run that started
// before this build may still import its lazy ones: they go only once an hour old.
const written = new Set([...Object.keys(result.metafile.outputs), ...Object.keys(quick.metafile.outputs)].map((file) => path.resolve(root, file)));
const anHourAgo = Date.now() - 3600_000;
for (const name of fs.readdirSync(dist)) {
  const file = path.join(dist, name);
  if (!written.has(file) && fs.statSync(file).mtimeMs < anHourAgo) fs.rmSync(file, { recursive: true, force: true });
}
