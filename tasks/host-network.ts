// Seed step 5 on the host: networkd started and enabled (systemd mode), and no stray default
// route through the container's link (networkd before systemd 244 added one, metric 99).
import { codeInputs, task, type TaskRef } from '../src/index.ts';
import { execFileSync } from 'node:child_process';
import type { RecipeParams } from './lib/params.ts';
import { defaultRoutesVia } from './lib/procfs.ts';

function unitActiveAndEnabled(unit: string): boolean {
  try {
    execFileSync('systemctl', ['is-active', '--quiet', unit], { stdio: 'ignore' });
    execFileSync('systemctl', ['is-enabled', '--quiet', unit], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

export function networkdTask(p: RecipeParams, deps: TaskRef[]): TaskRef {
  return task('networkd', {
    description: 'host systemd-networkd started and enabled (systemd mode)',
    deps,
    inputs: codeInputs(import.meta.url, p.root),
    values: { hostMode: p.hostMode },
    check: () => p.hostMode !== 'systemd' || unitActiveAndEnabled('systemd-networkd.service'),
    run: async (ctx) => {
      if (p.hostMode !== 'systemd') return ctx.log('standalone mode: no host networkd; the start task addresses the host end of the link itself');
      // `enable` also enables systemd-networkd-wait-online (Also=); on a host whose other links
      // networkd does not manage, that would hold up every boot for two minutes: keep it as it was.
      const waitOnline = 'systemd-networkd-wait-online.service';
      const waitOnlineWasEnabled = (await ctx.exec('systemctl', ['is-enabled', '--quiet', waitOnline], { reject: false })).exitCode === 0;
      await ctx.exec('systemctl', ['enable', '--now', 'systemd-networkd.service']);
      if (!waitOnlineWasEnabled) await ctx.exec('systemctl', ['disable', waitOnline], { reject: false });
      await ctx.exec('networkctl', ['reload']);
    },
  });
}

export function routeTask(p: RecipeParams, deps: TaskRef[]): TaskRef {
  const link = `ve-${p.machine}`;
  return task('route', {
    description: `no default route via ${link} on the host`,
    deps,
    inputs: codeInputs(import.meta.url, p.root),
    values: { link },
    check: () => defaultRoutesVia(link) === 0,
    run: async (ctx) => {
      const stray = defaultRoutesVia(link);
      for (let i = 0; i < stray; i++) await ctx.exec('ip', ['-4', 'route', 'del', 'default', 'dev', link]);
      ctx.log(stray ? `removed ${stray} default route(s) via ${link}` : `no default route via ${link}`);
    },
  });
}
