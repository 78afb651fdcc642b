#!/usr/bin/env node
// Bundles the engine (src/) into dist/ with esbuild: `npm run build`, and npm's `prepare` step.
// One module per entry (cli.js, index.js) plus shared chunks, and one chunk per lazy import, so
// that a no-op still loads neither the build code nor execa. Fewer modules than one per source
// file start about 10-20 ms sooner (Node's ESM loader pays per module).
import fs from 'node:fs';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const dist = `${root}dist`;
const { build } = await import('esbuild');
// Chunk names carry a hash: a stale one from an earlier build would linger.
fs.rmSync(dist, { recursive: true, force: true });
await build({
  absWorkingDir: root,
  entryPoints: ['src/cli.ts', 'src/index.ts'],
  outdir: 'dist',
  bundle: true,
  splitting: true,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  // Dependencies stay in node_modules, loaded when (and only if) the engine imports them.
  packages: 'external',
  logLevel: 'warning',
});
