// `task` with nothing to do, answered before the TypeScript loader or the Taskfile is loaded:
// bin/task.js tries this first. It answers only when the load record (decide/load-record.ts)
// says the Taskfile would declare what it declared when the snapshot of the targets was taken,
// and the snapshot (decide/snapshot.ts) finds nothing changed and no check to ask; otherwise it
// says nothing and the full command runs, deciding as it always does.
import path from 'node:path';
import { realDisk, type Disk } from '../base/disk.ts';
import { checkLoadRecord } from '../decide/load-record.ts';
import { changedSince, readSnapshot } from '../decide/snapshot.ts';
import { summaryLines } from '../report/plain-reporter.ts';
import { findTaskfileAbove } from '../taskfile/load.ts';
import { parseArgs, type CliArgs } from './args.ts';

// Options a no-op answers the same with whatever their value; any other one set, and the full
// command runs (-v, -n, --json, --explain, --force, --watch, ... say or do more than a no-op).
const noOpOptions = new Set<keyof CliArgs>(['targets', 'overrides', 'directory', 'taskfile', 'jobs', 'keepGoing', 'progress', 'color', 'cacheUrl', 'cacheMode', 'cacheDir', 'graphFormat']);

/** Whether a run with these arguments may answer from the load record and the snapshot. */
export function answersFromRecords(args: CliArgs): boolean {
  for (const [key, value] of Object.entries(args)) {
    if (noOpOptions.has(key as keyof CliArgs)) continue;
    if (value !== false && value !== undefined) return false;
  }
  return true;
}

/**
 * Exit status 0 after printing the no-op summary, when the records answer; undefined when the
 * full command must run (any doubt, any error: the full command says what is wrong).
 */
export function answerNoOp(argv: readonly string[], options: { cwd: string; env: NodeJS.ProcessEnv; stderr: NodeJS.WritableStream; disk?: Disk }): number | undefined {
  const disk = options.disk ?? realDisk;
  const started = disk.now();
  try {
    const args = parseArgs(argv);
    if (!answersFromRecords(args)) return undefined;
    const start = path.resolve(options.cwd, args.directory ?? '.');
    const file = args.taskfile !== undefined ? path.resolve(start, args.taskfile) : args.directory !== undefined ? path.join(start, 'Taskfile.ts') : findTaskfileAbove(start);
    if (file === undefined) return undefined;
    const root = path.dirname(file);
    const stateDir = path.join(root, '.task');
    // Targets named: a snapshot with a check to ask (a running container) ends this before the
    // load record's files are stat'ed one by one.
    const named = args.targets.length > 0 ? readSnapshot(stateDir, args.targets, disk) : undefined;
    if (named !== undefined && ('miss' in named || named.checks.length > 0)) return undefined;
    const load = checkLoadRecord({ stateDir, cwd: options.cwd, argv, disk, env: options.env });
    if ('miss' in load || load.taskfile !== file) return undefined;
    const targets = args.targets.length > 0 ? args.targets : load.defaultTarget !== undefined ? [load.defaultTarget] : undefined;
    if (targets === undefined) return undefined;
    const snapshot = named ?? readSnapshot(stateDir, targets, disk);
    if ('miss' in snapshot || snapshot.declarations !== load.declarations || snapshot.checks.length > 0) return undefined;
    if (changedSince(snapshot, { stateDir, root, disk }) !== undefined) return undefined;
    const groups = new Set(snapshot.groups);
    const upToDate = snapshot.tasks.filter((task) => !groups.has(task));
    const summary = { ran: [], upToDate, groups: snapshot.groups, wouldRun: [], failed: [], skipped: [], notStarted: [], interrupted: [], wallMs: disk.now() - started, exitStatus: 0 };
    options.stderr.write(`${summaryLines(summary, 'build').join('\n')}\n`);
    return 0;
  } catch {
    return undefined;
  }
}
