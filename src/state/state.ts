// The state store: one record per task of its last successful run, plus the input digest cache.
// On disk: `.task/state.json` (versioned, replaced atomically) and `.task/journal`, an append-only
// log of changes made since, so that removing a record before a task runs is on disk at once
// without rewriting the whole store for every task.
import fs from 'node:fs';
import path from 'node:path';
import type { FileStamp } from './file-stamps.ts';
import { StateError } from '../base/errors.ts';
import type { OutputRecord, TaskRecord } from './record.ts';
import { decodeStore, encodeStore, fromPlainRecord, stateVersion, toPlainRecord, type StoreContents } from './state-codec.ts';

export { stateVersion } from './state-codec.ts';
export type { FingerprintParts, OutputRecord, TaskRecord } from './record.ts';

/** A journal line; a put's record is plain JSON (see toPlainRecord). */
type JournalEntry = { op: 'del'; task: string } | { op: 'put'; task: string; record: unknown };

/** The records, in memory; changes are appended to the journal as they are made. */
export class StateStore {
  readonly tasks: Map<string, TaskRecord>;
  /** The input digest cache (FileStamps reads and updates it in place), saved with the records. */
  readonly files: Map<string, FileStamp>;
  readonly warnings: string[];
  #journalFd: number | undefined;
  #journalPath: string | undefined;
  /** True once a record changed, or when the file is in an older format: the store must be saved. */
  changed = false;

  constructor(init: { tasks?: Map<string, TaskRecord>; files?: Map<string, FileStamp>; warnings?: string[]; journalPath?: string } = {}) {
    this.tasks = init.tasks ?? new Map();
    this.files = init.files ?? new Map();
    this.warnings = init.warnings ?? [];
    this.#journalPath = init.journalPath;
  }

  get(task: string): TaskRecord | undefined {
    return this.tasks.get(task);
  }

  /** Removes a task's record, durably, before the task runs. */
  delete(task: string): void {
    if (!this.tasks.has(task)) return;
    this.tasks.delete(task);
    this.#append({ op: 'del', task });
  }

  /** Records a task's successful run. */
  put(task: string, record: TaskRecord): void {
    this.tasks.set(task, record);
    this.#append({ op: 'put', task, record: toPlainRecord(record) });
  }

  #append(entry: JournalEntry): void {
    this.changed = true;
    if (this.#journalPath === undefined) return;
    // appendFileSync returns once the kernel has the bytes: a crash of this process cannot lose
    // them, so a task never starts while its old record could still come back.
    try {
      this.#journalFd ??= fs.openSync(this.#journalPath, 'a');
      fs.writeSync(this.#journalFd, `${JSON.stringify(entry)}\n`);
    } catch (error) {
      throw new StateError(`cannot write the state journal ${this.#journalPath}: ${(error as Error).message}`);
    }
  }

  closeJournal(): void {
    if (this.#journalFd !== undefined) fs.closeSync(this.#journalFd);
    this.#journalFd = undefined;
  }
}

/** Paths of the state folder's files, made once a folder (each run's no-op asks for them a dozen times). */
export function statePaths(stateDir: string): StatePaths {
  let paths = pathsOf.get(stateDir);
  if (paths === undefined) pathsOf.set(stateDir, (paths = makeStatePaths(stateDir)));
  return paths;
}

export type StatePaths = Readonly<ReturnType<typeof makeStatePaths>>;
const pathsOf = new Map<string, StatePaths>();

function makeStatePaths(stateDir: string) {
  return {
    dir: stateDir,
    store: path.join(stateDir, 'state.json'),
    journal: path.join(stateDir, 'journal'),
    lock: path.join(stateDir, 'lock'),
    logs: path.join(stateDir, 'logs'),
    snapshots: path.join(stateDir, 'snapshots'),
    tasks: path.join(stateDir, 'tasks'),
    /** The timings log (timings-log.ts). */
    timings: path.join(stateDir, 'timings.log'),
    /** The code jiti compiled for the Taskfile's modules (taskfile/recorded-code.ts). */
    taskfileCode: path.join(stateDir, 'taskfile-code.json'),
  };
}

/**
 * Loads the store and replays the journal. A corrupt or unknown store is a warning, treated as
 * empty; a store or journal that exists but cannot be read (EACCES, EISDIR, EIO) is a StateError.
 */
export function loadState(stateDir: string, options: { journal: boolean }): StateStore {
  const paths = statePaths(stateDir);
  const warnings: string[] = [];
  let tasks = new Map<string, TaskRecord>();
  let files = new Map<string, FileStamp>();
  let outdated = false;
  let text: string | undefined;
  try {
    text = fs.readFileSync(paths.store, 'utf8');
  } catch (error) {
    // Taken as empty, an unreadable store (EACCES, EIO) would be saved over, its records lost.
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw unreadable('store', paths.store, error);
  }
  if (text !== undefined) {
    const parsed = parseStore(text);
    if (typeof parsed === 'string') {
      warnings.push(`the state store ${paths.store} ${parsed}; treating it as empty (every task will run)`);
    } else {
      ({ tasks, files } = parsed);
      outdated = parsed.version !== stateVersion;
    }
  }
  const journal = replayJournal(paths.journal, tasks, options.journal);
  const journalProblem = typeof journal === 'string' ? journal : undefined;
  if (journalProblem) {
    warnings.push(`the journal ${paths.journal} ${journalProblem}; treating the state as empty (every task will run)`);
    tasks = new Map();
  }
  const store = new StateStore({ tasks, files, warnings, journalPath: options.journal ? paths.journal : undefined });
  // Written in an older format, or with changes left in a journal by a run that was killed:
  // saved whole at the end of this run, even a no-op.
  store.changed = outdated || (typeof journal === 'number' && journal > 0);
  return store;
}

/** A state file that exists but cannot be read: the run stops before anything runs or is recorded. */
function unreadable(what: 'store' | 'journal', file: string, error: unknown): StateError {
  const { code, message } = error as NodeJS.ErrnoException;
  const reason = code && !message.startsWith(code) ? `${code}: ${message}` : message;
  return new StateError(`cannot read the state ${what} ${file}: ${reason.replace(/\s+/g, ' ')}; nothing was run`);
}

function parseStore(text: string): StoreContents | string {
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch {
    return text.length === 0 ? 'is empty' : 'is not valid JSON';
  }
  return decodeStore(data);
}

/** Applies the journal to the records: the number of entries, or a problem description when it cannot be trusted. */
function replayJournal(journalPath: string, tasks: Map<string, TaskRecord>, appending: boolean): string | number {
  let text: string;
  try {
    text = fs.readFileSync(journalPath, 'utf8');
  } catch (error) {
    // Only a missing journal is an empty one. One that cannot be read may remove records (tasks
    // that started running since the last save): taken as empty, it could call them up to date.
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return 0;
    throw unreadable('journal', journalPath, error);
  }
  // The last line may be cut short by a crash; that write never finished, so the task it
  // announced never started (a deletion) or its record was never taken (a put). Cut it off
  // before appending, or the next entry would be glued to it.
  const end = text.lastIndexOf('\n') + 1;
  if (appending && end < text.length) fs.truncateSync(journalPath, Buffer.byteLength(text.slice(0, end)));
  const complete = text.slice(0, end).split('\n').slice(0, -1);
  for (const line of complete) {
    let entry: JournalEntry;
    try {
      entry = JSON.parse(line) as JournalEntry;
    } catch {
      return 'holds a line that is not valid JSON';
    }
    const record = entry?.op === 'put' ? fromPlainRecord(entry.record) : undefined;
    if (entry?.op === 'del' && typeof entry.task === 'string') tasks.delete(entry.task);
    else if (entry?.op === 'put' && typeof entry.task === 'string' && record) tasks.set(entry.task, record);
    else return 'holds an entry it does not understand';
  }
  return complete.length;
}

/** Writes the whole store atomically (temporary file, fsync, rename), then drops the journal. */
export async function saveState(stateDir: string, store: StateStore): Promise<void> {
  const paths = statePaths(stateDir);
  const { default: writeFileAtomic } = await import('write-file-atomic');
  try {
    await writeFileAtomic(paths.store, encodeStore(store.tasks, store.files), { fsync: true });
  } catch (error) {
    // The old store is whole (the write goes to a temporary name), and the journal is kept.
    throw new StateError(`cannot write the state store ${paths.store}: ${(error as Error).message}; the journal beside it keeps this run's records`);
  }
  store.closeJournal();
  // The journal's entries are all in the store now; replaying them again would be harmless.
  fs.rmSync(paths.journal, { force: true });
  // No-op snapshots describe the store they were taken with; each also checks its identity, and
  // removing them leaves no doubt even where a file system reuses inodes and coarse timestamps.
  fs.rmSync(paths.snapshots, { recursive: true, force: true });
}
