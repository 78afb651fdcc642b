// Seed step 6: the container running the current rootfs. Restarted whenever anything it
// depends on ran (a new rootfs, a new execd, new limits), and started again when its check
// finds it gone (killed from outside).
import fs from 'node:fs';
import { codeInputs, task, type TaskRef } from '../src/index.ts';
import { requestSlots, requestUidBase } from './lib/chroot-files.ts';
import { containerAddress, waitForPort } from './lib/container.ts';
import { containerFor } from './lib/host.ts';
import { closeRequestNetwork } from './lib/nftables.ts';
import type { RecipeParams } from './lib/params.ts';

export function startTask(p: RecipeParams, deps: TaskRef[]): TaskRef {
  const container = containerFor(p);
  return task('start', {
    description: `the container ${p.machine} running the current rootfs (${p.hostMode} mode)`,
    deps,
    // The code that starts the container is part of what this task reads: editing it restarts it.
    inputs: codeInputs(import.meta.url, p.root),
    values: { hostMode: p.hostMode, machine: p.machine, rootfs: p.rootfs, port: p.port, cpuQuota: p.cpuQuota, memoryMax: p.memoryMax, runtimeDir: p.runtimeDir },
    check: () => container.leader() !== undefined,
    run: async (ctx) => {
      await container.start(ctx);
      // Running means serving: execd listens a moment after systemd has started it.
      const leader = container.leader();
      // Right as it serves: requests (and their reapers) send nothing, not even on loopback.
      if (leader !== undefined) await closeRequestNetwork(ctx, leader, requestUidBase, requestUidBase + 2 * requestSlots - 1);
      const address = leader === undefined ? undefined : containerAddress(leader);
      if (address) await waitForPort(ctx, address, p.port);
      // The rootfs a replaced container ran from (see the rootfs task) is no longer in use.
      fs.rmSync(`${p.rootfs}.old`, { recursive: true, force: true });
    },
    // `task --clean rootfs` (or chroot, nspawn-config, ...) stops the container before its root
    // folder or configuration goes; a container that is not running is left as it is.
    clean: (ctx) => container.stop(ctx),
  });
}
