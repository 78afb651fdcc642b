// Seed step 6: the container running the current rootfs. Restarted whenever anything it
// depends on ran (a new rootfs, a new execd, new limits), and started again when its check
// finds it gone (killed from outside).
import { task, type TaskRef } from '../src/index.ts';
import { containerFor } from './container.ts';
import type { RecipeParams } from './params.ts';

export function startTask(p: RecipeParams, deps: TaskRef[]): TaskRef {
  const container = containerFor(p);
  return task('start', {
    description: `the container ${p.machine} running the current rootfs (${p.hostMode} mode)`,
    deps,
    values: { hostMode: p.hostMode, machine: p.machine, rootfs: p.rootfs, cpuQuota: p.cpuQuota, memoryMax: p.memoryMax, runtimeDir: p.runtimeDir },
    check: () => container.leader() !== undefined,
    run: (ctx) => container.start(ctx),
  });
}

export function stopTask(p: RecipeParams): TaskRef {
  const container = containerFor(p);
  return task('stop', {
    description: `stops the container ${p.machine}, removes its veth link and pid file (not part of all)`,
    values: { hostMode: p.hostMode, machine: p.machine, rootfs: p.rootfs, runtimeDir: p.runtimeDir },
    always: true,
    run: (ctx) => container.stop(ctx),
  });
}
