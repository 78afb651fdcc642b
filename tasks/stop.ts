// `stop`, an operator's target (not part of all): the container stopped, then its firewall table
// removed. start's clean step stops the container the same way, through the same host.
import { task, type TaskRef } from '../src/index.ts';
import { containerFor } from './lib/host.ts';
import { removeFirewall } from './lib/nftables.ts';
import type { RecipeParams } from './lib/params.ts';

export function stopTask(p: RecipeParams): TaskRef {
  const container = containerFor(p);
  return task('stop', {
    description: `stops the container ${p.machine}, removes its veth link, pid file and firewall table (not part of all)`,
    values: { hostMode: p.hostMode, machine: p.machine, rootfs: p.rootfs, runtimeDir: p.runtimeDir },
    always: true,
    run: async (ctx) => {
      // Stops it and removes its veth link and pid file (and, standalone, its cgroups).
      await container.stop(ctx);
      // Only once the container is gone: it never runs without its firewall.
      await removeFirewall(ctx, p);
    },
  });
}
