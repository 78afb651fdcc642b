// `logs`, an operator's target beside stop (not part of all): execd.service's lines of the
// container's journal and, in standalone mode, the end of the container's console log.
import fs from 'node:fs';
import { task, type TaskRef } from '../src/index.ts';
import { runningLeader } from './lib/host.ts';
import type { RecipeParams } from './lib/params.ts';
import { standalonePaths } from './lib/standalone.ts';

/** How many journal lines, and console log lines, are shown. */
export const journalLines = 100;
export const consoleLines = 30;

export function logsTask(p: RecipeParams): TaskRef {
  return task('logs', {
    description: `execd.service's journal in the container ${p.machine}, and its console log in standalone mode (not part of all)`,
    values: { hostMode: p.hostMode, machine: p.machine, rootfs: p.rootfs, runtimeDir: p.runtimeDir, journalLines, consoleLines },
    always: true,
    pool: 'console',
    run: async (ctx) => {
      const leader = runningLeader(p);
      const lines = ['-n', String(journalLines), '--no-pager', '-u', 'execd.service'];
      if (p.hostMode === 'systemd') {
        // The host's journalctl reads the container's journal through machined.
        await ctx.exec('journalctl', ['-M', p.machine, ...lines]);
        return;
      }
      // No machined: the container's own journalctl, in its namespaces.
      await ctx.exec('nsenter', ['-t', String(leader), '-a', 'journalctl', ...lines]);
      const consoleLog = standalonePaths(p).console;
      const text = fs.existsSync(consoleLog) ? fs.readFileSync(consoleLog, 'utf8').replace(/\x1b\[[0-9;?]*[A-Za-z]/g, '').replace(/\r/g, '') : '';
      ctx.log(`-- the last ${consoleLines} lines of the console log, ${consoleLog}:`);
      for (const line of text.trimEnd().split('\n').slice(-consoleLines)) ctx.log(line);
    },
  });
}
