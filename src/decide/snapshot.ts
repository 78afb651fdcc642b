// The no-op shortcut. A build that found every task of its targets up to date leaves a snapshot
// of what its decisions read: the stamp (size, mtime, ctime, inode) of every file the recorded
// fingerprints and outputs name, the identity of the state store holding those records, and a
// digest of the Taskfile's declarations made from the same declared parts the fingerprint is
// made of (declaredParts). While all three are unchanged, the full decision (freshness.ts) would
// compare the same parts with the same records and find every file as stamped, so it would decide
// the same: the run answers "nothing to do" from the snapshot alone, with no store to load and no
// graph to build (ninja's no-op is the same walk: stats against its log). Anything different, and
// the run decides task by task. The snapshot only ever says "up to date". A part added to the
// fingerprint is covered with no change here: a declared one through declaredParts, a file
// through the record's inputs, which name every file whose digest the fingerprint holds.
import fs from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { statOrRefusal, type Disk, type Stat } from '../base/disk.ts';
import { shortHash } from '../base/short-hash.ts';
import { racyWindowMs, sameStamp } from '../state/file-stamps.ts';
import { declaredParts, sourceOf } from './fingerprint.ts';
import { checkSpec, commandKeyOf, commandsOf, placePath, type Graph } from '../graph/graph.ts';
import type { TaskDef } from '../taskfile/registry.ts';
import { statePaths, stateVersion, type TaskRecord } from '../state/state.ts';
import { isGroup } from '../taskfile/group.ts';
import type { TaskSpec } from '../taskfile/types.ts';

const snapshotVersion = 4;

// node:crypto only for a digest of the declarations: a no-op answered without the Taskfile needs none.
const require = createRequire(import.meta.url);
const crypto = (): typeof import('node:crypto') => require('node:crypto');

interface SnapshotFile {
  version: number;
  stateVersion: number;
  targets: string[];
  /** Digest of every task's declaration (declarationDigest). */
  declarations: string;
  /** state.json's inode, size, mtime and ctime: a rewritten store is another file. */
  store: number[];
  /** The targets' closure, dependencies first, as the build settled it. */
  tasks: string[];
  /** The tasks of the closure that have a check, in the same order: they are asked again each run. */
  checks: string[];
  /** The groups of the closure (isGroup): not counted in the summary. */
  groups: string[];
  /**
   * Per file: path, kind, size, mtimeMs, ctimeMs, inode. Kinds: 0 a file (all of it compared);
   * 1 an output folder (existence only); 2 a folder of an input folder's tree (its mtime, ctime
   * and inode: adding, removing or renaming an entry changes them).
   */
  files: Array<string | number>;
}

/**
 * What a snapshot says: every task up to date once the listed checks agree, or why it cannot say so.
 */
export type SnapshotVerdict = { upToDate: string[]; checks: string[]; declarations: string } | { miss: string };

/** One snapshot per set of targets: `task` and `task hosts` keep theirs side by side. */
export function snapshotPath(stateDir: string, targets: readonly string[]): string {
  return path.join(statePaths(stateDir).snapshots, `${shortHash(targets.join('\0'))}.json`);
}

/**
 * A digest of the Taskfile's declarations: each task's declared fingerprint parts, made by the
 * fingerprint's own declaredParts, then every field of its declaration as written (functions by
 * their source's digest, dependencies by name), so that a field added to tasks is covered before
 * anyone thinks of it. It assumes the declarations passed the graph's field checks: without them,
 * values that are not JSON could hash like ones that are.
 */
export function declarationDigest(tasks: ReadonlyMap<string, TaskDef>, root: string): string {
  const hash = crypto().createHash('sha256').update(`${snapshotVersion}\0${root}\0`);
  // JSON of a few thousand tasks at a time: one JSON text of them all would be megabytes.
  let chunk: unknown[] = [];
  for (const def of tasks.values()) {
    const { spec } = def;
    // The node's keys as the graph makes them (placePath, commandKeyOf), without the graph.
    const outputKeys = (spec.outputs ?? []).map((output) => placePath(root, output).key);
    chunk.push(declaredParts({ name: def.name, spec, commandKey: commandKeyOf(commandsOf(spec.command)), outputKeys }));
    const fields = spec as unknown as Record<string, unknown>;
    for (const key of Object.keys(fields)) {
      const value = fields[key];
      chunk.push(key, typeof value === 'function' ? sourceOf(value) : key === 'deps' ? depNames(spec.deps) : value);
    }
    if (chunk.length >= 10_000) {
      hash.update(JSON.stringify(chunk));
      chunk = [];
    }
  }
  return hash.update(JSON.stringify(chunk)).digest('hex');
}

/** Dependencies by name; anything else (which the graph rejects) as null. */
function depNames(deps: TaskSpec['deps']): Array<string | null> | null {
  if (deps === undefined) return null;
  const names = new Array<string | null>(deps.length);
  for (let i = 0; i < deps.length; i++) {
    const dep = deps[i];
    names[i] = typeof dep === 'string' ? dep : typeof dep?.name === 'string' ? dep.name : null;
  }
  return names;
}

const storeIdentity = (stat: Stat | undefined): number[] | undefined =>
  stat?.kind === 'file' ? [stat.ino, stat.size, stat.mtimeMs, stat.ctimeMs] : undefined;

/** A store with journal entries has changes the snapshot never saw. */
function journalIsEmpty(disk: Disk, stateDir: string): boolean {
  const journal = disk.stat(statePaths(stateDir).journal);
  return journal === undefined || journal.size === 0;
}

/** A snapshot as read, not yet compared with anything. */
export type Snapshot = SnapshotFile;

/** Reads the snapshot of these targets, if there is one of this version. */
export function readSnapshot(stateDir: string, targets: readonly string[], disk: Disk): Snapshot | { miss: string } {
  let snapshot: SnapshotFile;
  try {
    const text = disk.readText(snapshotPath(stateDir, targets));
    if (text === undefined) return { miss: 'no snapshot' };
    snapshot = JSON.parse(text) as SnapshotFile;
  } catch {
    return { miss: 'no snapshot' };
  }
  const isString = (value: unknown) => typeof value === 'string';
  const strings = (value: unknown) => Array.isArray(value) && value.every(isString);
  if (
    snapshot?.version !== snapshotVersion || snapshot.stateVersion !== stateVersion || typeof snapshot.declarations !== 'string' ||
    !strings(snapshot.targets) || !Array.isArray(snapshot.store) || snapshot.store.length !== 4 ||
    !strings(snapshot.tasks) || !strings(snapshot.checks) || !strings(snapshot.groups) ||
    !Array.isArray(snapshot.files) || snapshot.files.length % 6 !== 0
  ) {
    return { miss: 'snapshot in another format' };
  }
  if (snapshot.targets.length !== targets.length || snapshot.targets.some((t, i) => t !== targets[i])) {
    return { miss: 'snapshot of other targets' };
  }
  return snapshot;
}

/**
 * Checks the snapshot of these targets. Its stats are not kept for the build that follows a miss:
 * keeping 20,000 of them alive cost a 10,000-task no-op more than a miss costs in stats again.
 */
export function checkSnapshot(options: {
  stateDir: string;
  root: string;
  targets: readonly string[];
  tasks: ReadonlyMap<string, TaskDef>;
  disk: Disk;
}): SnapshotVerdict {
  const snapshot = readSnapshot(options.stateDir, options.targets, options.disk);
  if ('miss' in snapshot) return snapshot;
  // The graph's field checks, so that a declaration the graph would reject never matches.
  for (const def of options.tasks.values()) checkSpec(def);
  if (declarationDigest(options.tasks, options.root) !== snapshot.declarations) return { miss: 'the Taskfile changed' };
  const miss = changedSince(snapshot, options);
  return miss !== undefined ? { miss } : { upToDate: snapshot.tasks, checks: snapshot.checks, declarations: snapshot.declarations };
}

/**
 * What changed since the snapshot was taken, apart from the Taskfile: the state store (rewritten,
 * or with journal entries it never saw), or a file it stamped. Undefined when nothing did.
 */
export function changedSince(snapshot: Snapshot, options: { stateDir: string; root: string; disk: Disk }): string | undefined {
  const { disk } = options;
  const store = storeIdentity(disk.stat(statePaths(options.stateDir).store));
  if (!store || store.some((n, i) => n !== snapshot.store[i]) || !journalIsEmpty(disk, options.stateDir)) {
    return 'the state store changed';
  }
  const { files } = snapshot;
  for (let i = 0; i + 5 < files.length; i += 6) {
    const file = files[i];
    if (typeof file !== 'string') return 'snapshot in another format';
    const found = statOrRefusal(disk, file);
    if ('refused' in found) return found.refused;
    const { stat } = found;
    const kind = files[i + 1];
    const same =
      stat !== undefined &&
      (kind === 1
        ? stat.kind === 'dir'
        : stat.kind === (kind === 2 ? 'dir' : 'file') &&
          sameStamp({ size: kind === 2 ? stat.size : (files[i + 2] as number), mtimeMs: files[i + 3] as number, ctimeMs: files[i + 4] as number, ino: files[i + 5] as number }, stat));
    if (!same) return `${path.relative(options.root, file) || file} changed`;
  }
  return undefined;
}

/**
 * After a build in which every task of the closure was found up to date (none ran), records what
 * its decisions read: for each task, the files its record's fingerprint holds digests of (its
 * inputs) and the outputs its record holds, and for an input folder every folder of its tree (a
 * file added to it is an input the record does not name yet). Returns why no snapshot was
 * written, or undefined. Nothing is written for a closure with an `always` task or an `async`
 * check (the snapshot asks only checks that answer at once), a glob input (a new file matching it
 * changes no stat the build took), or a file or folder modified within a second before the build
 * began (`startedAt`): it may have changed again within its mtime's tick, after it was stat'ed or
 * hashed, as FileStamps knows. That cutoff also makes stats taken now as good as the build's:
 * whatever changed since the build began is refused.
 */
export function writeSnapshot(options: {
  stateDir: string;
  targets: readonly string[];
  tasks: ReadonlyMap<string, TaskDef>;
  graph: Graph;
  order: readonly string[];
  /** The records the build found every task up to date with. */
  records: { get(task: string): TaskRecord | undefined };
  disk: Disk;
  /** The build's stat cache; a file it lacks is stat'ed now. */
  stats: ReadonlyMap<string, Stat | undefined>;
  /** When the build began, before it took any stat. */
  startedAt: number;
  /** The declarations' digest, when the caller has it already. */
  declarations?: string;
}): string | undefined {
  const { graph, stats, disk } = options;
  const { root } = graph;
  const recentSince = options.startedAt - racyWindowMs;
  const seen = new Set<string>();
  const files: Array<string | number> = [];
  const shown = (file: string) => path.relative(root, file) || file;
  const statOf = (file: string) => (stats.has(file) ? stats.get(file) : disk.stat(file));
  /** Records a file (kind 0) or an input folder (kind 2) by its stamp, unless it is too recent. */
  const record = (file: string, kind: 0 | 2, stat: Stat): string | undefined => {
    if (Math.max(stat.mtimeMs, stat.ctimeMs) >= recentSince) return `${shown(file)} was modified within the last second`;
    files.push(file, kind, kind === 0 ? stat.size : 0, stat.mtimeMs, stat.ctimeMs, stat.ino);
    return undefined;
  };
  /** A file the decision compared: an input's digest, or an output (a folder output by existence). */
  const add = (file: string, kind: 'file' | 'either'): string | undefined => {
    if (seen.has(file)) return undefined;
    seen.add(file);
    const stat = statOf(file);
    if (stat === undefined) return `${shown(file)} is missing`;
    if (stat.kind === 'dir' && kind === 'either') {
      files.push(file, 1, 0, 0, 0, 0);
      return undefined;
    }
    if (stat.kind !== 'file') return `${shown(file)} is not a file`;
    return record(file, 0, stat);
  };
  /** The folders of an input folder's tree, by stamp: adding, removing or renaming an entry changes them. */
  const walked = new Set<string>();
  const addTree = (dir: string): string | undefined => {
    if (walked.has(dir)) return undefined;
    walked.add(dir);
    const folders = [dir];
    let entries: fs.Dirent[];
    try {
      entries = fs.readdirSync(dir, { recursive: true, withFileTypes: true });
    } catch (error) {
      return `cannot read ${shown(dir)}: ${(error as Error).message}`;
    }
    for (const entry of entries) {
      const file = `${entry.parentPath ?? entry.path}/${entry.name}`;
      if (entry.isDirectory()) folders.push(file);
      // A link whose target is no file (missing, or a folder) changes with its target, which
      // lies outside what this records: the build would see a new file that no stat here shows.
      else if (entry.isSymbolicLink() && statOf(file)?.kind !== 'file') return `${shown(file)} is a link to no file`;
    }
    for (const folder of folders) {
      const stat = statOf(folder);
      if (stat?.kind !== 'dir') return `${shown(folder)} is not a folder`;
      const problem = record(folder, 2, stat);
      if (problem) return problem;
    }
    return undefined;
  };
  const checks: string[] = [];
  const groups: string[] = [];
  for (const name of options.order) {
    const node = graph.nodes.get(name)!;
    if (isGroup(node.spec)) groups.push(name);
    if (node.spec.always) return `task '${name}' always runs`;
    if (node.spec.check) checks.push(name);
    const taskRecord = options.records.get(name);
    if (taskRecord === undefined) {
      // A group: nothing of its own to compare.
      if (node.inputs.length === 0 && node.outputs.length === 0) continue;
      return `task '${name}' has no record`;
    }
    for (const literal of node.literalInputs) {
      if (literal === undefined) return `task '${name}' has a glob input`;
      if (statOf(literal.file)?.kind === 'dir') {
        const problem = addTree(literal.file);
        if (problem) return problem;
      }
    }
    // The files the fingerprint holds digests of: whatever put them there (declared, or found
    // in a folder), they are what the decision hashed (through their stamps) and compared.
    for (const key of taskRecord.parts.inputs.keys()) {
      const problem = add(path.resolve(root, key), 'file');
      if (problem) return problem;
    }
    // Inputs the last run discovered (depfile, ctx.discovered): the decision digests them as it does declared ones.
    for (const key of taskRecord.parts.discovered?.keys() ?? []) {
      const problem = add(path.resolve(root, key), 'file');
      if (problem) return problem;
    }
    for (const [out, recorded] of taskRecord.outputs) {
      const problem = add(out, recorded.kind === 'dir' ? 'either' : 'file');
      if (problem) return problem;
    }
  }
  const store = storeIdentity(disk.stat(statePaths(options.stateDir).store));
  if (!store || !journalIsEmpty(disk, options.stateDir)) return 'the state store is not saved';
  const snapshot: SnapshotFile = {
    version: snapshotVersion,
    stateVersion,
    targets: [...options.targets],
    declarations: options.declarations ?? declarationDigest(options.tasks, graph.root),
    store,
    tasks: [...options.order],
    checks,
    groups,
    files,
  };
  const file = snapshotPath(options.stateDir, options.targets);
  try {
    disk.writeText(file, JSON.stringify(snapshot));
  } catch (error) {
    // Only a shortcut: without it the next run takes the full path.
    return `cannot write ${file}: ${(error as Error).message}`;
  }
  return undefined;
}
