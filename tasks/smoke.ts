// Seed step 8: `execc execd:4000 figlet <<<"hello, world!"` prints the banner: the reply must
// equal what figlet prints inside the container for the same text.
import fs from 'node:fs';
import path from 'node:path';
import { task, TaskFailure, type TaskRef } from '../src/index.ts';
import { execcBinary } from './lib/execd-binaries.ts';
import { containerFor } from './lib/host.ts';
import { lookupHost } from './lib/hosts-file.ts';
import type { RecipeParams } from './lib/params.ts';

export const smokeText = 'hello, world!';

export function smokeTask(p: RecipeParams, deps: TaskRef[]): TaskRef {
  const container = containerFor(p);
  return task('smoke', {
    description: `execc ${p.machine}:${p.port} figlet "${smokeText}" prints the banner`,
    deps,
    always: true,
    values: { hostsFile: p.hostsFile, machine: p.machine, port: p.port, text: smokeText },
    run: async (ctx) => {
      // The name is resolved through hostsFile (which tests point at a file of their own).
      const address = lookupHost(fs.readFileSync(p.hostsFile, 'utf8'), p.machine);
      if (!address) throw new TaskFailure(`${p.hostsFile} does not name ${p.machine}: run the hosts task`);
      const leader = container.leader();
      if (leader === undefined) throw new TaskFailure(`the container ${p.machine} is not running`);
      const expected = await ctx.exec('nsenter', ['-t', String(leader), '-a', 'figlet'], { input: smokeText, quiet: true });
      const reply = await ctx.exec(path.join(ctx.root, execcBinary), [`${address}:${p.port}`, 'figlet'], { input: smokeText, timeout: 30_000 });
      if (reply.stdout !== expected.stdout) {
        throw new TaskFailure(`execd's banner differs from figlet's in the container:\n--- execd\n${reply.stdout}\n--- figlet\n${expected.stdout}`);
      }
      ctx.log(`execd at ${p.machine} (${address}:${p.port}) answered with the banner`);
    },
  });
}
