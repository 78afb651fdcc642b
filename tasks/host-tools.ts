// Before the seed's steps: the host needs debootstrap, systemd-nspawn, go and iproute2.
import fs from 'node:fs';
import path from 'node:path';
import { codeInputs, task, type TaskRef } from '../src/index.ts';
import type { RecipeParams } from './lib/params.ts';

/** Command -> the Debian package that provides it. */
export const hostCommands: Record<string, string> = {
  debootstrap: 'debootstrap',
  'systemd-nspawn': 'systemd-container',
  go: 'golang-go',
  ip: 'iproute2',
  nsenter: 'util-linux',
  nft: 'nftables',
};

const searchPath = ['/usr/local/sbin', '/usr/local/bin', '/usr/sbin', '/usr/bin', '/sbin', '/bin'];

/** The full path of a command, looked up in PATH and the usual system folders. */
export function which(command: string): string | undefined {
  const dirs = [...(process.env.PATH ?? '').split(':').filter(Boolean), ...searchPath];
  for (const dir of dirs) {
    const file = path.join(dir, command);
    try {
      fs.accessSync(file, fs.constants.X_OK);
      return file;
    } catch {
      // not here
    }
  }
  return undefined;
}

export function missingPackages(): string[] {
  return [...new Set(Object.entries(hostCommands).filter(([command]) => !which(command)).map(([, pkg]) => pkg))];
}

export function hostToolsTask(p: RecipeParams): TaskRef {
  return task('host-tools', {
    description: 'installs debootstrap, systemd-container, golang-go, iproute2 and nftables where missing',
    inputs: codeInputs(import.meta.url, p.root),
    values: { commands: hostCommands },
    check: () => missingPackages().length === 0,
    run: async (ctx) => {
      const missing = missingPackages();
      if (missing.length === 0) return ctx.log('every host tool is installed');
      const env = { DEBIAN_FRONTEND: 'noninteractive' };
      await ctx.exec('apt-get', ['update', '-q'], { env });
      await ctx.exec('apt-get', ['install', '-y', '-q', '--no-install-recommends', ...missing], { env });
    },
  });
}
