// `shell`, an operator's target beside stop (not part of all): a root shell in the container,
// for debugging, on the user's terminal.
import { task, type TaskRef } from '../src/index.ts';
import { runningLeader } from './lib/host.ts';
import type { RecipeParams } from './lib/params.ts';

export function shellTask(p: RecipeParams): TaskRef {
  return task('shell', {
    description: `a root shell in the container ${p.machine}, for debugging (not part of all)`,
    values: { hostMode: p.hostMode, machine: p.machine, rootfs: p.rootfs, runtimeDir: p.runtimeDir },
    always: true,
    // The command gets the terminal (stdio 'inherit'); the display is plain lines around it.
    pool: 'console',
    run: async (ctx) => {
      const leader = runningLeader(p);
      // A login shell through the container's systemd, on a pseudo-terminal of its own, with no
      // root password (Ctrl-] three times in a second leaves it); without machined, bash in all
      // of the container's namespaces. A shell started that way is not in the container's
      // cgroups: its own processes do not count against the container's limits.
      const [file, args] = p.hostMode === 'systemd' ? ['machinectl', ['shell', p.machine]] : ['nsenter', ['-t', String(leader), '-a', '/bin/bash', '-l']];
      // A shell's exit status is its last command's: not a failure of this task.
      const { exitCode } = await ctx.exec(file, args, { stdio: 'inherit', reject: false });
      ctx.log(`the shell in ${p.machine} exited with status ${exitCode}`);
    },
  });
}
