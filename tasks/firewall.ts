// The container answers on its port and nothing else, and no connection it opens goes anywhere:
// an nftables table of the recipe's own on the host, matching the container's link by name (so it
// holds from before the link exists). Installed before the container starts, checked live on every
// run, removed by `stop`. The missing route off the link is a second wall, not the only one.
import { codeInputs, task, type TaskRef } from '../src/index.ts';
import { firewallInstalled, firewallRules, firewallTable, installFirewall, removeFirewall } from './lib/nftables.ts';
import type { RecipeParams } from './lib/params.ts';

export function firewallTask(p: RecipeParams, deps: TaskRef[]): TaskRef {
  return task('firewall', {
    description: `nftables: ve-${p.machine} answers on port ${p.port} and opens no connection`,
    deps,
    inputs: codeInputs(import.meta.url, p.root),
    values: { table: firewallTable(p.machine), rules: firewallRules(p) },
    check: () => firewallInstalled(p),
    run: (ctx) => installFirewall(ctx, p),
    clean: (ctx) => removeFirewall(ctx, p),
  });
}
