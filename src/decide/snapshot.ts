// The no-op shortcut. A build that found every task of its targets up to date leaves a snapshot:
// the stat of each input and output it compared, the identity of the state store it compared
// them with, and a digest of the Taskfile's declarations. While all three are unchanged, a run
// of the same targets would compare the same stats with the same records and decide the same,
// so it answers "nothing to do" from the snapshot alone: no store to load, no graph to build
// (ninja's no-op is the same walk: stats against its log). Anything different, and the run
// takes the full path, which decides task by task. The snapshot only ever says "up to date".
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import type { Disk, Stat } from '../base/disk.ts';
import { answersAtOnce } from './early-check.ts';
import { FileError } from '../base/errors.ts';
import { racyWindowMs } from '../state/file-stamps.ts';
import { sourceOf } from './fingerprint.ts';
import { checkSpec, type Graph } from '../graph/graph.ts';
import type { TaskDef } from '../taskfile/registry.ts';
import { statePaths, stateVersion } from '../state/state.ts';
import type { TaskSpec } from '../taskfile/types.ts';

const snapshotVersion = 2;

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
export type SnapshotVerdict = { upToDate: string[]; checks: string[] } | { miss: string };

/** One snapshot per set of targets: `task` and `task hosts` keep theirs side by side. */
export function snapshotPath(stateDir: string, targets: readonly string[]): string {
  const key = createHash('sha256').update(targets.join('\0')).digest('hex').slice(0, 16);
  return path.join(statePaths(stateDir).snapshots, `${key}.json`);
}

/**
 * A digest of everything the Taskfile declares that the graph and the up-to-date rules read. It
 * assumes the declarations passed the graph's field checks: without them, values that are not
 * JSON could hash like ones that are.
 */
export function declarationDigest(tasks: ReadonlyMap<string, TaskDef>, root: string): string {
  const hash = createHash('sha256').update(`${snapshotVersion}\0${root}\0`);
  // JSON of a few thousand tasks at a time: one JSON text of them all would be megabytes.
  let chunk: unknown[] = [];
  for (const def of tasks.values()) {
    const { spec } = def;
    chunk.push(def.name, Object.keys(spec), depNames(spec.deps), spec.inputs ?? null, spec.outputs ?? null, spec.values ?? null);
    chunk.push(sourceOf(spec.run), sourceOf(spec.check), spec.always === true, spec.timeout ?? 0, spec.command ?? null);
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
  const { disk } = options;
  let snapshot: SnapshotFile;
  try {
    snapshot = JSON.parse(fs.readFileSync(snapshotPath(options.stateDir, options.targets), 'utf8')) as SnapshotFile;
  } catch {
    return { miss: 'no snapshot' };
  }
  const isString = (value: unknown) => typeof value === 'string';
  if (
    snapshot?.version !== snapshotVersion || snapshot.stateVersion !== stateVersion ||
    !Array.isArray(snapshot.targets) || !Array.isArray(snapshot.store) || snapshot.store.length !== 4 ||
    !Array.isArray(snapshot.tasks) || !snapshot.tasks.every(isString) || !Array.isArray(snapshot.checks) || !snapshot.checks.every(isString) ||
    !Array.isArray(snapshot.files) || snapshot.files.length % 6 !== 0
  ) {
    return { miss: 'snapshot in another format' };
  }
  if (snapshot.targets.length !== options.targets.length || snapshot.targets.some((t, i) => t !== options.targets[i])) {
    return { miss: 'snapshot of other targets' };
  }
  const store = storeIdentity(disk.stat(statePaths(options.stateDir).store));
  if (!store || store.some((n, i) => n !== snapshot.store[i]) || !journalIsEmpty(disk, options.stateDir)) {
    return { miss: 'the state store changed' };
  }
  // The graph's field checks, so that a declaration the graph would reject never matches.
  for (const def of options.tasks.values()) checkSpec(def);
  if (declarationDigest(options.tasks, options.root) !== snapshot.declarations) return { miss: 'the Taskfile changed' };
  const { files } = snapshot;
  for (let i = 0; i + 5 < files.length; i += 6) {
    const file = files[i];
    if (typeof file !== 'string') return { miss: 'snapshot in another format' };
    let stat: Stat | undefined;
    try {
      stat = disk.stat(file);
    } catch (error) {
      // A file this user may not stat (a snapshot taken by root): the build decides, and says so.
      if (error instanceof FileError) return { miss: error.message };
      throw error;
    }
    const kind = files[i + 1];
    const same =
      stat !== undefined &&
      (kind === 1
        ? stat.kind === 'dir'
        : stat.kind === (kind === 2 ? 'dir' : 'file') && (kind === 2 || stat.size === files[i + 2]) &&
          stat.mtimeMs === files[i + 3] && stat.ctimeMs === files[i + 4] && stat.ino === files[i + 5]);
    if (!same) return { miss: `${path.relative(options.root, file) || file} changed` };
  }
  return { upToDate: snapshot.tasks, checks: snapshot.checks };
}

/**
 * After a build in which every task of the closure was found up to date (none ran), records what
 * it compared, from the build's stats. Returns why no snapshot was written, or undefined.
 * Nothing is written for a closure with an `always` task or an `async` check (the snapshot asks
 * only checks that answer at once), a glob input (a new file matching it changes no stat the
 * build took), or a file or folder modified within a second before the build began
 * (`startedAt`): it may have changed again within its mtime's tick, after it was stat'ed or
 * hashed, as FileStamps knows. That cutoff also makes stats taken now as good as the build's:
 * whatever changed since the build began is refused.
 */
export function writeSnapshot(options: {
  stateDir: string;
  targets: readonly string[];
  tasks: ReadonlyMap<string, TaskDef>;
  graph: Graph;
  order: readonly string[];
  disk: Disk;
  stats: ReadonlyMap<string, Stat | undefined>;
  /** When the build began, before it took any stat. */
  startedAt: number;
}): string | undefined {
  const { graph, stats, disk } = options;
  const recentSince = options.startedAt - racyWindowMs;
  const seen = new Set<string>();
  const files: Array<string | number> = [];
  const shown = (file: string) => path.relative(graph.root, file) || file;
  /** Records a file (kind 0) or an input folder (kind 2) by its stat, unless it is too recent. */
  const record = (file: string, kind: 0 | 2, stat: Stat): string | undefined => {
    if (Math.max(stat.mtimeMs, stat.ctimeMs) >= recentSince) return `${shown(file)} was modified within the last second`;
    files.push(file, kind, kind === 0 ? stat.size : 0, stat.mtimeMs, stat.ctimeMs, stat.ino);
    return undefined;
  };
  const add = (file: string, kind: 'file' | 'either'): string | undefined => {
    const stat = stats.get(file);
    if (seen.has(file)) return kind === 'file' && stat?.kind !== 'file' ? `${shown(file)} is not a file` : undefined;
    seen.add(file);
    if (stat === undefined) return `${shown(file)} was not compared`;
    if (stat.kind === 'dir' && kind === 'either') {
      files.push(file, 1, 0, 0, 0, 0);
      return undefined;
    }
    if (stat.kind !== 'file') return `${shown(file)} is not a file`;
    return record(file, 0, stat);
  };
  /** An input folder: every folder of its tree by mtime, every file in it as a file. */
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
      else if (!seen.has(file)) {
        seen.add(file);
        const stat = disk.stat(file);
        // A link whose target is no file (missing, or a folder) changes with its target, which
        // lies outside what this records: the build would see a new file that no stat here shows.
        if (entry.isSymbolicLink() && stat?.kind !== 'file') return `${shown(file)} is a link to no file`;
        // The build's walk skips sockets and pipes; replacing one changes its folder's mtime.
        if (stat?.kind !== 'file') continue;
        const problem = record(file, 0, stat);
        if (problem) return problem;
      }
    }
    for (const folder of folders) {
      const stat = disk.stat(folder);
      if (stat?.kind !== 'dir') return `${shown(folder)} is not a folder`;
      const problem = record(folder, 2, stat);
      if (problem) return problem;
    }
    return undefined;
  };
  const checks: string[] = [];
  for (const name of options.order) {
    const node = graph.nodes.get(name)!;
    if (node.spec.always) return `task '${name}' always runs`;
    if (node.spec.check) {
      if (!answersAtOnce(node.spec.check)) return `task '${name}' has an async check`;
      checks.push(name);
    }
    for (const literal of node.literalInputs) {
      if (literal === undefined) return `task '${name}' has a glob input`;
      const problem = stats.get(literal.file)?.kind === 'dir' && !graph.producers.has(literal.file) ? addTree(literal.file) : add(literal.file, 'file');
      if (problem) return problem;
    }
    for (const out of node.outputs) {
      const problem = add(out, 'either');
      if (problem) return problem;
    }
  }
  const store = storeIdentity(disk.stat(statePaths(options.stateDir).store));
  if (!store || !journalIsEmpty(disk, options.stateDir)) return 'the state store is not saved';
  const snapshot: SnapshotFile = {
    version: snapshotVersion,
    stateVersion,
    targets: [...options.targets],
    declarations: declarationDigest(options.tasks, graph.root),
    store,
    tasks: [...options.order],
    checks,
    files,
  };
  const file = snapshotPath(options.stateDir, options.targets);
  const aside = `${file}.${process.pid}`;
  try {
    fs.mkdirSync(path.dirname(file), { recursive: true });
    fs.writeFileSync(aside, JSON.stringify(snapshot));
    // Renamed into place whole: a reader sees the old snapshot or the new one, never half of one.
    fs.renameSync(aside, file);
  } catch (error) {
    fs.rmSync(aside, { force: true });
    // Only a shortcut: without it the next run takes the full path.
    return `cannot write ${file}: ${(error as Error).message}`;
  }
  return undefined;
}
