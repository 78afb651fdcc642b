// The no-op shortcut without the Taskfile. After a build that took a snapshot, the load record
// notes what evaluating the Taskfile read (LoadInputs: files by stamp, environment variables by
// value) and the digest of what it declared. A later run with the same command line in the same
// folder that finds all of it unchanged knows the Taskfile would declare the same tasks, so the
// snapshot's own declaration digest can be compared with the record's instead of with a fresh
// load: `task` answers "nothing to do" without starting the TypeScript loader at all.
import fs from 'node:fs';
import path from 'node:path';
import { statOrRefusal, type Disk, type Stat } from '../base/disk.ts';
import { shortHash } from '../base/short-hash.ts';
import { racyWindowMs, sameStamp } from '../state/file-stamps.ts';
import { statePaths } from '../state/state.ts';
import type { LoadInputs } from '../taskfile/load-inputs.ts';

const recordVersion = 1;

interface LoadRecordFile {
  version: number;
  /** The command line and folder it was recorded for (its file is named by their shortHash). */
  cwd: string;
  argv: string[];
  /** The engine that evaluated the Taskfile (its bundle's stamp) and the Node.js that ran it. */
  engine: string;
  node: string;
  taskfile: string;
  /** Per path: path, kind (0 file, 1 folder, 2 other, 3 absent), size, mtimeMs, ctimeMs, inode. */
  paths: Array<string | number>;
  env: Record<string, string | null>;
  defaultTarget: string | null;
  /** declarationDigest of what the Taskfile declared. */
  declarations: string;
}

/** What a valid record says the Taskfile would declare. */
export interface LoadVerdict {
  taskfile: string;
  defaultTarget: string | undefined;
  declarations: string;
}

/** One record per folder and command line: `task` and `task hosts machine=b` keep theirs apart. */
function recordPath(stateDir: string, cwd: string, argv: readonly string[]): string {
  return path.join(statePaths(stateDir).snapshots, `load-${shortHash([cwd, ...argv].join('\0'))}.json`);
}

/**
 * The stamp of the bundled engine's dist/cli.js: each bundling writes it anew, and it names
 * every chunk it loads by the chunk's content digest. Run from src/ (no bundle beside this
 * module), there is none, and no record is written or trusted.
 */
function engineIdentity(): string | undefined {
  const stat = fs.statSync(new URL('./cli.js', import.meta.url), { throwIfNoEntry: false });
  return stat?.isFile() ? [stat.size, stat.mtimeMs, stat.ctimeMs, stat.ino].join(':') : undefined;
}

// jiti's own cache of compiled modules: it follows the sources, which are recorded themselves.
const compiledCache = `${path.sep}node_modules${path.sep}.cache${path.sep}`;

const kindCode = (stat: Stat | undefined) => (stat === undefined ? 3 : stat.kind === 'file' ? 0 : stat.kind === 'dir' ? 1 : 2);

/** Writes the load record; returns why none was written, or undefined. */
export function writeLoadRecord(options: {
  stateDir: string;
  cwd: string;
  argv: readonly string[];
  taskfile: string;
  inputs: LoadInputs;
  defaultTarget: string | undefined;
  declarations: string;
  disk: Disk;
  /** When the Taskfile began to load: a file modified since (or just before) may change unseen. */
  startedAt: number;
}): string | undefined {
  const { inputs, disk } = options;
  if (inputs.unrecordable) return `the Taskfile's load is not recorded: ${inputs.unrecordable}`;
  const engine = engineIdentity();
  if (engine === undefined) return 'the engine runs from its sources';
  const paths: Array<string | number> = [];
  for (const file of inputs.paths) {
    if (file.includes(compiledCache)) continue;
    const found = statOrRefusal(disk, file);
    if ('refused' in found) return found.refused;
    const { stat } = found;
    if (stat && Math.max(stat.mtimeMs, stat.ctimeMs) >= options.startedAt - racyWindowMs) return `${file} was modified within the last second`;
    paths.push(file, kindCode(stat), stat?.size ?? 0, stat?.mtimeMs ?? 0, stat?.ctimeMs ?? 0, stat?.ino ?? 0);
  }
  const record: LoadRecordFile = {
    version: recordVersion,
    cwd: options.cwd,
    argv: [...options.argv],
    engine,
    node: process.version,
    taskfile: options.taskfile,
    paths,
    env: inputs.env,
    defaultTarget: options.defaultTarget ?? null,
    declarations: options.declarations,
  };
  const file = recordPath(options.stateDir, options.cwd, options.argv);
  try {
    disk.writeText(file, JSON.stringify(record));
  } catch (error) {
    return `cannot write ${file}: ${(error as Error).message}`;
  }
  return undefined;
}

/** Reads the load record of this folder and command line, and checks that nothing it noted changed. */
export function checkLoadRecord(options: { stateDir: string; cwd: string; argv: readonly string[]; disk: Disk; env: NodeJS.ProcessEnv }): LoadVerdict | { miss: string } {
  const { disk } = options;
  let record: LoadRecordFile;
  try {
    const text = disk.readText(recordPath(options.stateDir, options.cwd, options.argv));
    if (text === undefined) return { miss: 'no load record' };
    record = JSON.parse(text) as LoadRecordFile;
  } catch {
    return { miss: 'no load record' };
  }
  if (
    record?.version !== recordVersion || typeof record.engine !== 'string' || typeof record.taskfile !== 'string' ||
    typeof record.declarations !== 'string' || !Array.isArray(record.paths) || record.paths.length % 6 !== 0 ||
    typeof record.env !== 'object' || record.env === null
  ) {
    return { miss: 'load record in another format' };
  }
  if (record.cwd !== options.cwd || !Array.isArray(record.argv) || record.argv.join('\0') !== options.argv.join('\0')) return { miss: 'no load record' };
  if (record.node !== process.version || record.engine !== engineIdentity()) return { miss: 'another engine or Node.js' };
  for (const [name, value] of Object.entries(record.env)) {
    if ((options.env[name] ?? null) !== value) return { miss: `\$${name} changed` };
  }
  const { paths } = record;
  for (let i = 0; i + 5 < paths.length; i += 6) {
    const file = paths[i];
    if (typeof file !== 'string') return { miss: 'load record in another format' };
    const found = statOrRefusal(disk, file);
    if ('refused' in found) return { miss: found.refused };
    const { stat } = found;
    const kind = kindCode(stat);
    if (kind !== paths[i + 1]) return { miss: `${file} changed` };
    // A folder's stamp changes too when an entry is added, removed or renamed.
    if (stat && !sameStamp({ size: paths[i + 2] as number, mtimeMs: paths[i + 3] as number, ctimeMs: paths[i + 4] as number, ino: paths[i + 5] as number }, stat)) {
      return { miss: `${file} changed` };
    }
  }
  return { taskfile: record.taskfile, defaultTarget: record.defaultTarget ?? undefined, declarations: record.declarations };
}
