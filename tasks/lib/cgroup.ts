// Standalone mode's resource limits (seed step 4 without systemd): a cgroup of the container's
// own, made before it starts, that systemd-nspawn is started inside. Works with cgroup v1
// controllers (this kind of host: cpu and memory mounted separately beside a v2 hierarchy) and
// with a pure v2 host.
import fs from 'node:fs';
import path from 'node:path';
import { TaskFailure } from '../../src/index.ts';
import { requestSlots, requestUidBase } from './chroot-files.ts';

const cgroupRoot = '/sys/fs/cgroup';

/** One cgroup folder and the limit files written into it. */
export interface CgroupPlan {
  dir: string;
  files: Record<string, string>;
  /** v2 only: controllers the parent must hand down first. */
  enable?: string;
}

/** "10%" -> microseconds of CPU per 100 ms period. */
export function cpuQuotaMicros(quota: string, periodMicros = 100_000): number {
  return Math.round((Number.parseFloat(quota) / 100) * periodMicros);
}

/** "32M" -> bytes. */
export function memoryBytes(max: string): number {
  const units: Record<string, number> = { K: 1024, M: 1024 ** 2, G: 1024 ** 3 };
  const match = max.match(/^(\d+)([KMG]?)$/);
  if (!match) throw new TaskFailure(`memoryMax ${max} is not a size`);
  return Number(match[1]) * (units[match[2] ?? ''] ?? 1);
}

/** This process's cgroup path in a hierarchy, from /proc/self/cgroup ("4:memory:/a/b"). */
function ownPath(controller: string | undefined): string {
  for (const line of fs.readFileSync('/proc/self/cgroup', 'utf8').split('\n')) {
    const [, controllers, where] = line.split(':');
    if (controller === undefined ? line.startsWith('0::') : controllers?.split(',').includes(controller)) return where ?? '/';
  }
  return '/';
}

/** Where the container's cgroups go and what is written in them. */
export function planCgroups(name: string, cpuQuota: string, memoryMax: string): CgroupPlan[] {
  const quota = String(cpuQuotaMicros(cpuQuota));
  const bytes = String(memoryBytes(memoryMax));
  if (fs.existsSync(path.join(cgroupRoot, 'cgroup.controllers'))) {
    // Pure v2: one folder, both limits. Created under the root, where controllers can be enabled.
    return [{ dir: path.join(cgroupRoot, name), files: { 'cpu.max': `${quota} 100000`, 'memory.max': bytes, 'memory.swap.max': '0' }, enable: '+cpu +memory' }];
  }
  const cpu = ['cpu', 'cpu,cpuacct'].map((d) => path.join(cgroupRoot, d)).find((d) => fs.existsSync(path.join(d, 'cpu.cfs_quota_us')));
  const memory = path.join(cgroupRoot, 'memory');
  if (!cpu || !fs.existsSync(path.join(memory, 'memory.limit_in_bytes'))) {
    throw new TaskFailure(`no cgroup cpu and memory controllers under ${cgroupRoot}: cannot apply cpuQuota and memoryMax`);
  }
  return [
    { dir: path.join(cpu, ownPath('cpu'), name), files: { 'cpu.cfs_period_us': '100000', 'cpu.cfs_quota_us': quota } },
    { dir: path.join(memory, ownPath('memory'), name), files: { 'memory.limit_in_bytes': bytes } },
  ];
}

/** Creates the cgroups and writes the limits; returns the cgroup.procs files to join. */
export function createCgroups(plans: CgroupPlan[]): string[] {
  for (const plan of plans) {
    if (plan.enable) {
      try {
        fs.writeFileSync(path.join(path.dirname(plan.dir), 'cgroup.subtree_control'), plan.enable);
      } catch (error) {
        throw new TaskFailure(`cannot enable the cpu and memory controllers under ${path.dirname(plan.dir)}: ${(error as Error).message}`);
      }
    }
    fs.mkdirSync(plan.dir, { recursive: true });
    for (const [file, value] of Object.entries(plan.files)) {
      const target = path.join(plan.dir, file);
      if (!fs.existsSync(target) && file.includes('swap')) continue; // no swap accounting here
      try {
        fs.writeFileSync(target, value);
      } catch (error) {
        throw new TaskFailure(`cannot write ${value} to ${target}: ${(error as Error).message}`);
      }
    }
  }
  return plans.map((plan) => path.join(plan.dir, 'cgroup.procs'));
}

/** Removes the container's cgroups, waiting up to 10 s for their last processes to be reaped. */
export async function removeCgroups(plans: CgroupPlan[]): Promise<void> {
  for (const plan of plans) {
    for (let attempt = 0; attempt < 100 && fs.existsSync(plan.dir); attempt++) {
      try {
        fs.rmdirSync(plan.dir);
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'EBUSY') break;
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
    }
  }
}

/**
 * The request slots' cgroups (cgroup v1, as on this kind of host), under the container's own so
 * they count against its limits, in two hierarchies:
 * - memory: `requests` gets half of the container's memory (16M of 32M) and each `requests/slotN`
 *   a quarter, so the container's own processes (systemd, journald, execd: about 13M) keep their
 *   room and a memory hog thrashes only its own slot; socket buffers, which cgroup v1 counts apart
 *   and only once a limit is set (loopback TCP had buffered 233 MiB of the host's memory from one
 *   request), get 1 MiB a slot and 2 MiB for all requests;
 * - cpu: `requests/slotN` share a quarter of the container's CPU weight among them (cpu.shares
 *   256 against 1024 for each of the container's own processes) and at most half its quota, so
 *   execd, systemd and the reaper still run on time when every slot spins.
 * Each slot's cgroup.procs belongs to the slot's uid, so the request's launcher can move itself in
 * (and nothing can move out); each hierarchy's `requests` folder is bound into the container.
 */
export interface RequestCgroups {
  /** Per hierarchy (memory, cpu): the folder bound into the container under that name. */
  hierarchies: Array<{ name: string; dir: string; files: Record<string, string> }>;
  slots: number;
  /** Files written into each slot folder, per hierarchy name. */
  slotFiles: Record<string, Record<string, string>>;
}

export function planRequestCgroups(plans: CgroupPlan[], memoryMax: string): RequestCgroups | undefined {
  const memory = plans.find((plan) => 'memory.limit_in_bytes' in plan.files);
  const cpu = plans.find((plan) => 'cpu.cfs_quota_us' in plan.files);
  if (!memory || !cpu) return undefined; // pure v2: the container's systemd would have to delegate; not done
  const total = memoryBytes(memoryMax);
  return {
    hierarchies: [
      { name: 'memory', dir: path.join(memory.dir, 'requests'), files: { 'memory.limit_in_bytes': String(Math.floor(total / 2)), 'memory.kmem.tcp.limit_in_bytes': String(2 << 20) } },
      // Half the container's CPU quota at most, as well: a program in a long system call (a
      // 1 MiB read) overruns a quota until it returns to user mode, and the overrun must not
      // come out of what execd and systemd need.
      { name: 'cpu', dir: path.join(cpu.dir, 'requests'), files: { 'cpu.shares': '256', 'cpu.cfs_period_us': '100000', 'cpu.cfs_quota_us': String(Math.max(1000, Math.floor(Number(cpu.files['cpu.cfs_quota_us']) / 2))) } },
    ],
    slots: requestSlots,
    slotFiles: { memory: { 'memory.limit_in_bytes': String(Math.floor(total / 4)), 'memory.kmem.tcp.limit_in_bytes': String(1 << 20) }, cpu: {} },
  };
}

const slotDir = (dir: string, i: number) => path.join(dir, `slot${i}`);

/** Makes the request cgroups (after the container's own, which hold them). */
export function createRequestCgroups(requests: RequestCgroups): void {
  const make = (dir: string, files: Record<string, string>) => {
    fs.mkdirSync(dir, { recursive: true });
    for (const [file, value] of Object.entries(files)) {
      try {
        fs.writeFileSync(path.join(dir, file), value);
      } catch (error) {
        throw new TaskFailure(`cannot write ${value} to ${path.join(dir, file)}: ${(error as Error).message}`);
      }
    }
  };
  for (const hierarchy of requests.hierarchies) {
    make(hierarchy.dir, hierarchy.files);
    for (let i = 0; i < requests.slots; i++) {
      const slot = slotDir(hierarchy.dir, i);
      make(slot, requests.slotFiles[hierarchy.name] ?? {});
      closeToRequests(slot);
      // The slot's uid joins it (its launcher writes cgroup.procs), and only it may read which
      // pids are in it (ProtectProc hides them from /proc).
      for (const file of ['cgroup.procs', 'tasks']) fs.chownSync(path.join(slot, file), requestUidBase + i, requestUidBase + i);
    }
    closeToRequests(hierarchy.dir);
  }
}

/**
 * A request cgroup's files are root's alone (0600) and its folder is not listed (0711): a request
 * must not read another slot's memory use or statistics, nor all requests' together. execd (another
 * uid) still reaches each slot's cgroup.procs by name.
 */
function closeToRequests(dir: string): void {
  for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
    if (entry.isFile()) fs.chmodSync(path.join(dir, entry.name), 0o600);
  }
  fs.chmodSync(dir, 0o711);
}

/** Every request cgroup folder, slots before their parents (a cgroup goes only once it has no children). */
export function requestCgroupDirs(requests: RequestCgroups | undefined): string[] {
  if (!requests) return [];
  return requests.hierarchies.flatMap((h) => [...Array.from({ length: requests.slots }, (_, i) => slotDir(h.dir, i)), h.dir]);
}

export async function removeRequestCgroups(requests: RequestCgroups | undefined): Promise<void> {
  await removeCgroups(requestCgroupDirs(requests).map((dir) => ({ dir, files: {} })));
}
