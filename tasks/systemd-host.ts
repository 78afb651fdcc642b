// systemd host mode: PID 1 is systemd. The container is systemd-nspawn@MACHINE.service, started
// with machinectl, configured by the .nspawn file and drop-in that nspawn-config writes.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { TaskFailure } from '../src/index.ts';
import type { Container } from './container.ts';
import type { RecipeParams } from './params.ts';
import { processAlive } from './procfs.ts';

/** machinectl only finds images in its own folders; a rootfs elsewhere is linked in from here. */
export const machinectlImages = '/var/lib/machines';

/** `machinectl show MACHINE` as key=value pairs, or undefined when the machine is not running. */
function machineProperties(machine: string): Record<string, string> | undefined {
  try {
    const text = execFileSync('machinectl', ['show', machine, '--property=State', '--property=Leader', '--property=RootDirectory'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
    return Object.fromEntries(text.trim().split('\n').map((line) => [line.slice(0, line.indexOf('=')), line.slice(line.indexOf('=') + 1)]));
  } catch {
    return undefined;
  }
}

export function systemdContainer(p: RecipeParams): Container {
  const unit = `systemd-nspawn@${p.machine}.service`;
  return {
    leader() {
      const props = machineProperties(p.machine);
      const leader = Number(props?.Leader);
      if (props?.State !== 'running' || !Number.isInteger(leader) || !processAlive(leader)) return undefined;
      const root = props.RootDirectory;
      // Running, but from another folder than the current rootfs: treat as not running it.
      if (root && fs.realpathSync(root) !== fs.realpathSync(p.rootfs)) return undefined;
      return leader;
    },

    async start(ctx) {
      if (path.dirname(p.rootfs) !== machinectlImages) {
        const link = path.join(machinectlImages, p.machine);
        fs.mkdirSync(machinectlImages, { recursive: true });
        const current = fs.lstatSync(link, { throwIfNoEntry: false });
        if (current && !current.isSymbolicLink()) throw new TaskFailure(`${link} exists and is not a link to ${p.rootfs}: move it away or use machinesDir=${machinectlImages}`);
        if (current) fs.rmSync(link);
        fs.symlinkSync(p.rootfs, link);
        ctx.log(`linked ${link} -> ${p.rootfs} (machinectl looks for images in ${machinectlImages})`);
      }
      const state = machineProperties(p.machine)?.State;
      await ctx.exec('systemctl', [state === 'running' ? 'restart' : 'start', unit]);
      const booted = await ctx.exec('systemctl', ['-M', p.machine, 'is-system-running', '--wait'], { reject: false, timeout: 180_000 });
      const now = booted.stdout.trim();
      if (now !== 'running' && now !== 'degraded') {
        const status = await ctx.exec('systemctl', ['status', '--no-pager', '-n', '30', unit], { reject: false });
        throw new TaskFailure(`the container's systemd is ${now || 'not up'}:\n${status.stdout}`);
      }
    },

    async stop(ctx) {
      const result = await ctx.exec('machinectl', ['poweroff', p.machine], { reject: false });
      if (result.exitCode !== 0) ctx.log(`machinectl poweroff ${p.machine}: ${result.stderr.trim() || 'not running'}`);
      await ctx.exec('systemctl', ['stop', unit], { reject: false });
    },
  };
}
