#!/usr/bin/env node
// Compiles spawn-helper.c. npm runs this as `postinstall` (in a checkout and in a project that
// installs the package from its tarball or git, where `prepare` does not run) and as `prepare`.
// Without a C compiler the build still works: commands then start through Node, which is
// slower per command (see the README's benchmarks). Exits 0 either way, saying which.
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

// The same paths as location.ts names for the engine: the binary is named by the source's digest.
const sourcePath = fileURLToPath(new URL('./spawn-helper.c', import.meta.url));
const digest = createHash('sha256').update(fs.readFileSync(sourcePath)).digest('hex').slice(0, 16);
const binaryPath = fileURLToPath(new URL(`../../../node_modules/.cache/execd-builder/spawn-helper-${digest}`, import.meta.url));

// Named by the source's digest: a binary there is this source's, built by an earlier step.
if (fs.existsSync(binaryPath)) process.exit(0);

const compilers = [process.env.CC, 'cc', 'gcc', 'clang'].filter(Boolean);
fs.mkdirSync(path.dirname(binaryPath), { recursive: true });
const temporary = `${binaryPath}.${process.pid}.tmp`;
for (const compiler of compilers) {
  try {
    execFileSync(compiler, ['-O2', '-Wall', '-o', temporary, sourcePath], { stdio: ['ignore', 'ignore', 'pipe'] });
  } catch (error) {
    if (error.code === 'ENOENT') continue;
    fs.rmSync(temporary, { force: true });
    process.stderr.write(`spawn-helper: ${compiler} failed; commands will start through Node instead.\n${error.stderr ?? error.message}\n`);
    process.exit(0);
  }
  // Renamed into place so that a concurrent `task` never runs a half-written binary.
  fs.renameSync(temporary, binaryPath);
  process.stderr.write(`spawn-helper: built with ${compiler}\n`);
  process.exit(0);
}
process.stderr.write('spawn-helper: no C compiler (cc, gcc, clang); commands will start through Node instead (slower).\n');
