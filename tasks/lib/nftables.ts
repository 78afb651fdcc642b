// The container answers on its port and nothing else, and no connection it opens goes anywhere:
// an nftables table of the recipe's own on the host, matching the container's link by name (so it
// holds from before the link exists). Installed before the container starts, checked live on every
// run, removed by `stop`. The missing route off the link is a second wall, not the only one.
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { codeInputs, task, TaskFailure, type TaskContext, type TaskRef } from '../../src/index.ts';
import type { RecipeParams } from './params.ts';

/** nft names allow no '-': a machine name (a-z, 0-9, -) maps one to one onto a table name. */
export function firewallTable(machine: string): string {
  return `execd_builder_${machine.replace(/-/g, '_')}`;
}

/**
 * The rules. Input and forward: from the container's link only replies to connections the host
 * opened pass; anything it starts is dropped, to the host (every service bound to 0.0.0.0) and
 * beyond. Output: the host may open connections to the container's port (and ping it), nothing else.
 */
export function firewallRules(p: Pick<RecipeParams, 'machine' | 'port'>): string {
  const link = `ve-${p.machine}`;
  return `table inet ${firewallTable(p.machine)} {
  chain input {
    type filter hook input priority filter - 10; policy accept;
    iifname "${link}" ct state established,related accept
    iifname "${link}" counter drop
  }
  chain forward {
    type filter hook forward priority filter - 10; policy accept;
    iifname "${link}" counter drop
    oifname "${link}" counter drop
  }
  chain output {
    type filter hook output priority filter - 10; policy accept;
    oifname "${link}" ct state established,related accept
    oifname "${link}" tcp dport ${p.port} accept
    oifname "${link}" icmp type echo-request accept
    oifname "${link}" counter drop
  }
}
`;
}

/** How many rules the table holds when intact. */
const ruleCount = (rules: string) => rules.split('\n').filter((line) => /^\s+(iifname|oifname)/.test(line)).length;

/** The table's digest is its comment: a table changed or flushed by hand no longer matches. */
function tagged(rules: string): { text: string; tag: string } {
  const tag = `execd-builder ${createHash('sha256').update(rules).digest('hex').slice(0, 16)}`;
  return { text: rules.replace(/\{\n/, `{\n  comment "${tag}"\n`), tag };
}

/** Whether the table is in the kernel as this recipe wrote it (its comment and every rule). */
export function firewallInstalled(p: Pick<RecipeParams, 'machine' | 'port'>): boolean {
  const rules = firewallRules(p);
  let listing: string;
  try {
    listing = execFileSync('nft', ['list', 'table', 'inet', firewallTable(p.machine)], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
  } catch {
    return false;
  }
  // The JSON listing of nft 1.0.6 leaves the table's comment out: the text listing has it.
  return listing.includes(`comment "${tagged(rules).tag}"`) && ruleCount(listing) === ruleCount(rules);
}

/** Replaces the table in one transaction: never a moment without rules once it is there. */
async function installFirewall(ctx: TaskContext, p: RecipeParams): Promise<void> {
  const table = firewallTable(p.machine);
  const { text } = tagged(firewallRules(p));
  // `add` then `delete` makes the delete succeed whether or not the table existed; the whole
  // script is one atomic transaction.
  const script = `add table inet ${table}\ndelete table inet ${table}\n${text}`;
  await ctx.exec('nft', ['-f', '-'], { input: script });
  if (!firewallInstalled(p)) throw new TaskFailure(`nft accepted the table ${table} but it does not list as written`);
  ctx.log(`table inet ${table}: ve-${p.machine} may answer on port ${p.port}; nothing it opens passes`);
}

/** Removes the table, if it is there. */
export async function removeFirewall(ctx: TaskContext, p: Pick<RecipeParams, 'machine'>): Promise<void> {
  const table = firewallTable(p.machine);
  const removed = await ctx.exec('nft', ['delete', 'table', 'inet', table], { reject: false, quiet: true });
  ctx.log(removed.exitCode === 0 ? `removed the firewall table inet ${table}` : `no firewall table inet ${table}`);
}

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
