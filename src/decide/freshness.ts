// Is a task up to date? DESIGN.md's five rules, in order of cost, with every reason kept as data
// so that `--explain` and `-n` can name the file or value that changed.
import path from 'node:path';
import type { Disk } from '../base/disk.ts';
import { shellQuote } from '../base/format.ts';
import type { FingerprintParts } from './fingerprint.ts';
import type { Node } from '../graph/graph.ts';
import type { OutputRecord, TaskRecord } from '../state/state.ts';
import type { Value } from '../taskfile/types.ts';

/** Why a task has to run. */
export type Reason =
  | { kind: 'forced' }
  | { kind: 'always' }
  | { kind: 'no-record' }
  | { kind: 'run-changed' }
  | { kind: 'check-changed' }
  | { kind: 'command-changed'; old: string; now: string }
  | { kind: 'value-changed'; key: string; old: Value | undefined; now: Value | undefined }
  | { kind: 'input-changed'; file: string }
  | { kind: 'input-added'; file: string }
  | { kind: 'input-removed'; file: string }
  | { kind: 'discovered-changed'; file: string }
  | { kind: 'discovered-removed'; file: string }
  | { kind: 'outputs-changed'; old: string[]; now: string[] }
  | { kind: 'dep-ran'; dep: string; dryRun: boolean }
  | { kind: 'dep-changed'; dep: string }
  | { kind: 'dep-added'; dep: string }
  | { kind: 'dep-removed'; dep: string }
  | { kind: 'output-missing'; file: string }
  | { kind: 'output-modified'; file: string }
  | { kind: 'check-failed' }
  | { kind: 'check-threw'; message: string };

function unreachable(x: never): never {
  throw new Error(`unhandled reason ${JSON.stringify(x)}`);
}

const show = (value: Value | undefined) => (value === undefined ? '(none)' : JSON.stringify(value));

/** One line naming what changed, with old and new values where there are any. */
export function describeReason(reason: Reason): string {
  switch (reason.kind) {
    case 'forced': return 'forced (-f)';
    case 'always': return 'always runs';
    case 'no-record': return 'no record of a previous successful run';
    case 'run-changed': return 'its run function changed';
    case 'check-changed': return 'its check function changed';
    case 'command-changed': return `command changed: ${reason.old} -> ${reason.now}`;
    case 'value-changed': return `value ${reason.key} changed: ${show(reason.old)} -> ${show(reason.now)}`;
    case 'input-changed': return `input ${reason.file} changed`;
    case 'input-added': return `input ${reason.file} is new`;
    case 'input-removed': return `input ${reason.file} is gone`;
    case 'discovered-changed': return `discovered input ${reason.file} changed`;
    case 'discovered-removed': return `discovered input ${reason.file} is gone`;
    case 'outputs-changed': return `declared outputs changed: ${show(reason.old)} -> ${show(reason.now)}`;
    case 'dep-ran': return reason.dryRun ? `dependency ${reason.dep} will run` : `dependency ${reason.dep} ran`;
    case 'dep-changed': return `dependency ${reason.dep} changed since this task last ran`;
    case 'dep-added': return `dependency ${reason.dep} is new`;
    case 'dep-removed': return `dependency ${reason.dep} was removed`;
    case 'output-missing': return `output ${reason.file} is missing`;
    case 'output-modified': return `output ${reason.file} was modified since it was built`;
    case 'check-failed': return 'its check found the live state out of date';
    case 'check-threw': return `its check failed: ${reason.message}`;
    default: return unreachable(reason);
  }
}

/** The first command line that differs, old and new, shell-quoted ('(none)' where there is none). */
function commandChange(old: string, now: string): Reason {
  const parse = (text: string): string[][] => {
    try {
      const list: unknown = text ? JSON.parse(text) : [];
      return Array.isArray(list) ? (list as string[][]) : [];
    } catch {
      return [];
    }
  };
  const before = parse(old);
  const after = parse(now);
  const line = (argv: string[] | undefined) => (argv ? shellQuote(argv) : '(none)');
  for (let i = 0; i < Math.max(before.length, after.length); i++) {
    const a = line(before[i]);
    const b = line(after[i]);
    if (a !== b) return { kind: 'command-changed', old: a, now: b };
  }
  return { kind: 'command-changed', old: line(before[0]), now: line(after[0]) };
}

/** What a task's dependency did in this run: it ran, or (in a dry run) it would run. */
export type RanNow = ReadonlyMap<string, 'ran' | 'would-run'>;

/** The differences between a recorded fingerprint and the current one. */
export function diffParts(old: FingerprintParts, now: FingerprintParts, depsRanNow: RanNow): Reason[] {
  const reasons: Reason[] = [];
  if (old.runSource !== now.runSource) reasons.push({ kind: 'run-changed' });
  if (old.checkSource !== now.checkSource) reasons.push({ kind: 'check-changed' });
  if ((old.command ?? '') !== (now.command ?? '')) reasons.push(commandChange(old.command ?? '', now.command ?? ''));
  if (old.values !== now.values) {
    for (const key of new Set([...Object.keys(old.values), ...Object.keys(now.values)])) {
      const before = old.values[key];
      const after = now.values[key];
      // Equal strings and numbers (the common case) need no JSON.
      if (before !== after && JSON.stringify(before) !== JSON.stringify(after)) reasons.push({ kind: 'value-changed', key, old: before, now: after });
    }
  }
  for (const [file, digest] of now.inputs) {
    const before = old.inputs.get(file);
    if (before === undefined) reasons.push({ kind: 'input-added', file });
    else if (before !== digest) reasons.push({ kind: 'input-changed', file });
  }
  if (old.inputs.size !== now.inputs.size) {
    for (const file of old.inputs.keys()) if (!now.inputs.has(file)) reasons.push({ kind: 'input-removed', file });
  }
  if (old.discovered !== undefined) {
    // The current digests are taken for the recorded paths (discoveredDigests): the keys agree.
    for (const [file, before] of old.discovered) {
      const after = now.discovered?.get(file) ?? '';
      if (after === before) continue;
      reasons.push(after === '' ? { kind: 'discovered-removed', file } : { kind: 'discovered-changed', file });
    }
  }
  if (old.outputs.length !== now.outputs.length || old.outputs.some((out, i) => out !== now.outputs[i])) {
    reasons.push({ kind: 'outputs-changed', old: old.outputs, now: now.outputs });
  }
  for (const [dep, result] of now.deps) {
    const before = old.deps.get(dep);
    if (before === undefined) reasons.push({ kind: 'dep-added', dep });
    else if (before !== result) {
      const ran = depsRanNow.get(dep);
      reasons.push(ran ? { kind: 'dep-ran', dep, dryRun: ran === 'would-run' } : { kind: 'dep-changed', dep });
    }
  }
  if (old.deps.size !== now.deps.size) {
    for (const dep of old.deps.keys()) if (!now.deps.has(dep)) reasons.push({ kind: 'dep-removed', dep });
  }
  return reasons;
}

export interface Assessment {
  reasons: Reason[];
  parts: FingerprintParts;
  /** Output records refreshed because a file's mtime changed but its contents did not. */
  refreshedOutputs?: Map<string, OutputRecord>;
}

export interface AssessOptions {
  node: Node;
  root: string;
  disk: Disk;
  parts: FingerprintParts;
  record: TaskRecord | undefined;
  forced: boolean;
  depsRanNow: RanNow;
  /** Calls the task's `check` (or hands back what an earlier call of it returned or threw). */
  callCheck: () => unknown;
}

/**
 * Rules 1, 2, 3 and 5, which need no waiting: an empty `reasons` means the task is up to date
 * unless its `check` says otherwise. A no-op build decides most tasks with this alone.
 */
export function assessWithoutCheck(options: Omit<AssessOptions, 'callCheck'>): Assessment {
  const { node, record, parts } = options;
  // Deciding compares the recorded parts with these, part by part, which also names what changed.
  const result = (reasons: Reason[], refreshedOutputs?: Map<string, OutputRecord>): Assessment => ({ reasons, parts, refreshedOutputs });
  if (options.forced) return result([{ kind: 'forced' }]);
  if (node.spec.always) return result([{ kind: 'always' }]);
  if (!record) return result([{ kind: 'no-record' }]);
  const changes = diffParts(record.parts, parts, options.depsRanNow);
  if (changes.length > 0) return result(changes);
  const outputs = checkOutputs(options);
  return result(outputs.reasons, outputs.reasons.length > 0 ? undefined : outputs.refreshed);
}

/** Decides whether a task is up to date; an empty `reasons` means it is. */
export async function assess(options: AssessOptions): Promise<Assessment> {
  const found = assessWithoutCheck(options);
  const { check } = options.node.spec;
  // The check goes last: it may be a slow probe.
  if (found.reasons.length > 0 || !check) return found;
  let reason: Reason | undefined;
  try {
    if (!(await options.callCheck())) reason = { kind: 'check-failed' };
  } catch (error) {
    reason = { kind: 'check-threw', message: (error as Error).message };
  }
  if (!reason) return found;
  const { parts } = options;
  return { reasons: [reason], parts };
}

/** Every declared output exists, and files still have their recorded digest. */
function checkOutputs(options: Omit<AssessOptions, 'callCheck'>): { reasons: Reason[]; refreshed?: Map<string, OutputRecord> } {
  const { node, record, disk, root } = options;
  const reasons: Reason[] = [];
  let refreshed: Map<string, OutputRecord> | undefined;
  for (let i = 0; i < node.outputs.length; i++) {
    const out = node.outputs[i]!;
    const shown = node.outputKeys[i] ?? (path.relative(root, out) || out);
    const recorded = record?.outputs.get(out);
    const stat = disk.stat(out);
    if (!stat || !recorded) {
      reasons.push({ kind: 'output-missing', file: shown });
      continue;
    }
    if (recorded.kind === 'dir') {
      if (stat.kind !== 'dir') reasons.push({ kind: 'output-modified', file: shown });
      continue;
    }
    if (stat.kind !== 'file') {
      reasons.push({ kind: 'output-modified', file: shown });
      continue;
    }
    if (stat.size === recorded.size && stat.mtimeMs === recorded.mtimeMs) continue;
    const digest = stat.size === recorded.size ? disk.digest(out) : undefined;
    if (digest !== recorded.digest) {
      reasons.push({ kind: 'output-modified', file: shown });
      continue;
    }
    // Touched but byte-identical: still up to date; remember the new mtime to skip the rehash next time.
    refreshed ??= new Map(record!.outputs);
    refreshed.set(out, { ...recorded, mtimeMs: stat.mtimeMs });
  }
  return { reasons, refreshed };
}
