// Seed step 4, on the host: the container's veth link and resource limits. Current systemd reads
// [Network] from a .nspawn file in /etc and the limits from a drop-in for systemd-nspawn@.service
// (.nspawn files hold no cgroup limits; MemoryLimit= is ignored on cgroup v2). A .network file for
// ve-MACHINE, sorting before networkd's stock 80-container-ve.network, keeps the link link-local:
// no DHCP server, no masquerading, so the container has no way off the link.
import path from 'node:path';
import { codeInputs, task, type TaskRef } from '../src/index.ts';
import { writeFileAtomic } from './lib/files.ts';
import { containerOomScoreAdjust, containerTmpfs } from './lib/nspawn-settings.ts';
import type { RecipeParams } from './lib/params.ts';

export function nspawnFile(): string {
  const oom = containerOomScoreAdjust();
  return `[Exec]
Boot=yes
${oom === undefined ? '' : `OOMScoreAdjust=${oom}\n`}
[Files]
${containerTmpfs.map((t) => `TemporaryFileSystem=${t}`).join('\n')}

[Network]
VirtualEthernet=yes
`;
}

export function limitsDropIn(p: Pick<RecipeParams, 'cpuQuota' | 'memoryMax'>): string {
  return `[Service]
CPUQuota=${p.cpuQuota}
MemoryMax=${p.memoryMax}
`;
}

export function hostVethNetwork(machine: string): string {
  return `[Match]
Name=ve-${machine}

[Network]
LinkLocalAddressing=yes
DHCPServer=no
IPMasquerade=no
IPv6SendRA=no
`;
}

export function nspawnConfigPaths(p: Pick<RecipeParams, 'systemdDir' | 'machine'>) {
  return {
    nspawn: path.join(p.systemdDir, 'nspawn', `${p.machine}.nspawn`),
    limits: path.join(p.systemdDir, 'system', `systemd-nspawn@${p.machine}.service.d`, '50-execd-builder-limits.conf'),
    network: path.join(p.systemdDir, 'network', `10-ve-${p.machine}.network`),
  };
}

export function nspawnConfigTask(p: RecipeParams, deps: TaskRef[]): TaskRef {
  const files = nspawnConfigPaths(p);
  return task('nspawn-config', {
    description: `${files.nspawn}, the limits drop-in and the ve-${p.machine} .network file`,
    deps,
    inputs: codeInputs(import.meta.url, p.root),
    values: {
      files,
      nspawn: nspawnFile(),
      limits: limitsDropIn(p),
      network: hostVethNetwork(p.machine),
      hostMode: p.hostMode,
    },
    outputs: [files.nspawn, files.limits, files.network],
    run: async (ctx) => {
      writeFileAtomic(files.nspawn, nspawnFile());
      writeFileAtomic(files.limits, limitsDropIn(p));
      writeFileAtomic(files.network, hostVethNetwork(p.machine));
      if (p.hostMode === 'systemd') {
        await ctx.exec('systemctl', ['daemon-reload']);
      } else {
        ctx.log('standalone mode: the start task applies these settings itself (no systemd to read them)');
      }
    },
  });
}
