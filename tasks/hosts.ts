// Seed step 7: hostsFile maps the machine to the container's current IPv4 address. The check
// compares the file with the address the container has now, so after a restart with a new
// address `task hosts` fixes the file.
import fs from 'node:fs';
import { codeInputs, task, TaskFailure, type TaskRef } from '../src/index.ts';
import { containerAddress, waitForAddress } from './lib/container.ts';
import { writeFileAtomic } from './lib/files.ts';
import { containerFor } from './lib/host.ts';
import { lookupHost, withHostsEntry } from './lib/hosts-file.ts';
import type { RecipeParams } from './lib/params.ts';

const readOrEmpty = (file: string) => (fs.existsSync(file) ? fs.readFileSync(file, 'utf8') : '');

export function hostsTask(p: RecipeParams, deps: TaskRef[]): TaskRef {
  const container = containerFor(p);
  return task('hosts', {
    description: `${p.hostsFile} maps ${p.machine} to the container's address`,
    deps,
    inputs: codeInputs(import.meta.url, p.root),
    values: { hostsFile: p.hostsFile, machine: p.machine },
    check: () => {
      const leader = container.leader();
      const address = leader === undefined ? undefined : containerAddress(leader);
      return address !== undefined && lookupHost(readOrEmpty(p.hostsFile), p.machine) === address;
    },
    run: async (ctx) => {
      const leader = container.leader();
      if (leader === undefined) throw new TaskFailure(`the container ${p.machine} is not running: run the start task`);
      const address = await waitForAddress(ctx, leader);
      const text = readOrEmpty(p.hostsFile);
      const updated = withHostsEntry(text, p.machine, address);
      if (updated !== text) {
        try {
          writeFileAtomic(p.hostsFile, updated);
        } catch (error) {
          // /etc/hosts bind-mounted into a container cannot be renamed over; write it in place.
          if ((error as NodeJS.ErrnoException).code !== 'EBUSY') throw error;
          fs.writeFileSync(p.hostsFile, updated);
        }
      }
      ctx.log(`${p.hostsFile}: ${address} ${p.machine}`);
    },
  });
}
