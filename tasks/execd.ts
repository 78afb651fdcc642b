// Seed step 2: go build the daemon execd and the client execc into build/, static, version stamped.
import fs from 'node:fs';
import path from 'node:path';
import { codeInputs, task, type TaskRef } from '../src/index.ts';
import { execcBinary, execdBinary } from './lib/execd-binaries.ts';
import type { RecipeParams } from './lib/params.ts';

/**
 * The Go toolchain's version (`go1.19.8`), read from its VERSION file beside the `go` found on
 * PATH: no process started on every load of the Taskfile. '' where there is no go yet (host-tools
 * installs it; the value then changes once, and execd builds).
 */
export function goVersion(pathVariable = process.env.PATH ?? ''): string {
  for (const dir of pathVariable.split(':')) {
    if (!dir) continue;
    try {
      const go = fs.realpathSync(path.join(dir, 'go'));
      return fs.readFileSync(path.join(path.dirname(go), '..', 'VERSION'), 'utf8').split('\n')[0]!.trim();
    } catch {
      // not here, or a go without a VERSION file beside it
    }
  }
  return '';
}

/** The build's flags: part of the values, so a changed flag rebuilds (and misses the cache). */
const buildFlags = ['-trimpath', '-buildvcs=false'];

export function execdTask(p: RecipeParams, deps: TaskRef[]): TaskRef {
  return task('execd', {
    description: 'go build execd and execc into build/',
    deps,
    inputs: ['execd/go.mod', 'execd/cmd', 'execd/protocol', 'execd/server', ...codeInputs(import.meta.url, p.root)],
    values: { version: p.execdVersion, go: goVersion(), goarch: process.arch, flags: buildFlags, cgo: '0' },
    outputs: [execdBinary, execcBinary],
    // Keyed by the Go sources, the go version and the flags: a second host gets the binaries from the cache.
    cache: true,
    run: async (ctx) => {
      // CGO off: a static binary that runs in any rootfs. -trimpath: the same sources give the
      // same bytes, so an unchanged rebuild stops the rebuild here (early cutoff).
      const env = { CGO_ENABLED: String(ctx.values.cgo) };
      const ldflags = `-X main.version=${ctx.values.version}`;
      for (const [binary, pkg] of [[execdBinary, './cmd/execd'], [execcBinary, './cmd/execc']] as const) {
        // -buildvcs=false: no git stamp (git refuses a checkout owned by another user under sudo,
        // and a commit would change the bytes).
        await ctx.exec('go', ['build', ...buildFlags, '-ldflags', ldflags, '-o', `../${binary}`, pkg], { cwd: 'execd', env });
      }
    },
  });
}
