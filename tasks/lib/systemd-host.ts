// systemd host mode: PID 1 is systemd. The container is systemd-nspawn@MACHINE.service, started
// with machinectl, configured by the .nspawn file and drop-in that nspawn-config writes.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { TaskFailure } from '../../src/index.ts';
import { waitForAddress, type Container } from './container.ts';
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
      // Asked again while the container's systemd is not up yet to answer (it says "offline").
      const until = Date.now() + 180_000;
      let now = '';
      while (Date.now() < until) {
        const booted = await ctx.exec('systemctl', ['-M', p.machine, 'is-system-running', '--wait'], { reject: false, quiet: true, timeout: Math.max(1000, until - Date.now()) });
        now = booted.stdout.trim();
        if (now === 'running' || now === 'degraded') break;
        await new Promise((resolve) => setTimeout(resolve, 500));
      }
      if (now !== 'running' && now !== 'degraded') {
        const status = await ctx.exec('systemctl', ['status', '--no-pager', '-n', '30', unit], { reject: false });
        throw new TaskFailure(`the container's systemd is ${now || 'not up'}:\n${status.stdout}`);
      }
      // networkd gives the host end of the link its link-local address a few seconds after the
      // container's: wait until the host can route to the container, or smoke would race it.
      const leader = Number(machineProperties(p.machine)?.Leader);
      const address = await waitForAddress(ctx, leader);
      const link = `ve-${p.machine}`;
      const until2 = Date.now() + 60_000;
      for (;;) {
        const route = await ctx.exec('ip', ['-4', 'route', 'get', address], { reject: false, quiet: true });
        if (route.exitCode === 0 && route.stdout.includes(`dev ${link}`)) break;
        if (Date.now() > until2) throw new TaskFailure(`the host has no route to the container's ${address} via ${link} after 60 s: is systemd-networkd managing ${link}?`);
        await new Promise((resolve) => setTimeout(resolve, 250));
      }
      ctx.log(`the container is up at ${address} on ${link}`);
    },

    async stop(ctx) {
      const result = await ctx.exec('machinectl', ['poweroff', p.machine], { reject: false });
      if (result.exitCode !== 0) ctx.log(`machinectl poweroff ${p.machine}: ${result.stderr.trim() || 'not running'}`);
      await ctx.exec('systemctl', ['stop', unit], { reject: false });
    },
  };
}
