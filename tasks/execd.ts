// Seed step 2: go build the daemon execd and the client execc into build/, static, version stamped.
import { codeInputs, task, type TaskRef } from '../src/index.ts';
import type { RecipeParams } from './params.ts';

export const execdBinary = 'build/execd';
export const execcBinary = 'build/execc';

export function execdTask(p: RecipeParams, deps: TaskRef[]): TaskRef {
  return task('execd', {
    description: 'go build execd and execc into build/',
    deps,
    inputs: ['execd/go.mod', 'execd/cmd', 'execd/protocol', 'execd/server', ...codeInputs(import.meta.url, p.root)],
    values: { version: p.execdVersion },
    outputs: [execdBinary, execcBinary],
    run: async (ctx) => {
      // CGO off: a static binary that runs in any rootfs. -trimpath: the same sources give the
      // same bytes, so an unchanged rebuild stops the rebuild here (early cutoff).
      const env = { CGO_ENABLED: '0' };
      const ldflags = `-X main.version=${ctx.values.version}`;
      for (const [binary, pkg] of [[execdBinary, './cmd/execd'], [execcBinary, './cmd/execc']] as const) {
        // -buildvcs=false: no git stamp (git refuses a checkout owned by another user under sudo,
        // and a commit would change the bytes).
        await ctx.exec('go', ['build', '-trimpath', '-buildvcs=false', '-ldflags', ldflags, '-o', `../${binary}`, pkg], { cwd: 'execd', env });
      }
    },
  });
}
