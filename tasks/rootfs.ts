// Seed step 1: debootstrap a minimal Debian into machinesDir/machine. It is built in a temporary
// folder beside it and renamed into place only when debootstrap succeeded; the old rootfs is kept
// until then. Downloaded .debs are kept in a cache folder and reused.
import fs from 'node:fs';
import path from 'node:path';
import { codeInputs, task, TaskFailure, type TaskRef } from '../src/index.ts';
import type { RecipeParams } from './lib/params.ts';

/** Debian's name for this machine's architecture. */
export function debianArch(): string {
  const map: Record<string, string> = { x64: 'amd64', arm64: 'arm64', arm: 'armhf', ia32: 'i386', ppc64: 'ppc64el', s390x: 's390x', riscv64: 'riscv64' };
  return map[process.arch] ?? process.arch;
}

export function rootfsTask(p: RecipeParams, deps: TaskRef[]): TaskRef {
  return task('rootfs', {
    description: `debootstraps ${p.suite} into ${p.rootfs}`,
    deps,
    inputs: codeInputs(import.meta.url, p.root),
    // Not the rootfs's path: the output names it already, and debootstrap writes no path into the
    // tree, so the cache shares one rootfs between hosts that keep their machines elsewhere.
    values: { suite: p.suite, packages: p.packages, mirror: p.mirror, arch: debianArch() },
    outputs: [p.rootfs],
    // A second host (or a parameter switched back) restores the tree from the cache, owners,
    // modes, device nodes and capabilities included, instead of running debootstrap.
    cache: true,
    run: async (ctx) => {
      fs.mkdirSync(p.machinesDir, { recursive: true });
      // Left by a run that was killed: never complete, never used.
      for (const stale of fs.readdirSync(p.machinesDir).filter((f) => f.startsWith(`.${p.machine}.building-`))) {
        fs.rmSync(path.join(p.machinesDir, stale), { recursive: true, force: true });
      }
      const cache = path.join(ctx.root, '.task', 'cache', 'debootstrap', `${p.suite}-${debianArch()}`);
      fs.mkdirSync(cache, { recursive: true });
      const building = fs.mkdtempSync(path.join(p.machinesDir, `.${p.machine}.building-`));
      try {
        const args = ['--variant=minbase', `--include=${p.packages.join(',')}`, `--arch=${debianArch()}`, `--cache-dir=${cache}`, p.suite, building];
        if (p.mirror) args.push(p.mirror);
        await ctx.exec('debootstrap', args);
        // lstat: figlet is an alternatives link whose absolute target only resolves inside the rootfs.
        if (!fs.lstatSync(path.join(building, 'usr/bin/figlet'), { throwIfNoEntry: false })) {
          throw new TaskFailure(`debootstrap finished but ${building} has no figlet: check packages=${p.packages.join(',')}`);
        }
        // mkdtemp made it 0700: the container's / must be readable by its users (nobody, messagebus).
        fs.chmodSync(building, 0o755);
        // Swap: the old rootfs leaves only once the new one is complete. A running container may
        // still use it: it is kept as ROOTFS.old until the start task has restarted the container.
        const old = `${p.rootfs}.old`;
        fs.rmSync(old, { recursive: true, force: true });
        if (fs.existsSync(p.rootfs)) fs.renameSync(p.rootfs, old);
        fs.renameSync(building, p.rootfs);
      } finally {
        fs.rmSync(building, { recursive: true, force: true });
      }
    },
  });
}
