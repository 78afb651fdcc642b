// Plain lines, for output that is not a terminal (CI, pipes) and for -n, --explain and -q.
// stdout carries the progress lines and what tasks print; stderr carries failures, warnings and
// the closing summary (as make's errors), so `task > out.txt` still shows what went wrong.

import path from 'node:path';
import { CommandFailed, describeSystemError, thrownAt } from '../base/errors.ts';
import { paint, type Paint } from './display.ts';
import { OutputExcerpt } from './excerpt.ts';
import { slowBuildLines } from './slow-build.ts';
import type { BuildEvent, BuildSummary, CacheStats, Reporter } from './events.ts';
import { formatDuration } from '../base/format.ts';
import { describeReason, type Reason } from '../decide/freshness.ts';

export type ReportMode = 'build' | 'dry-run' | 'explain' | 'question';

const flushIntervalMs = 50;

const reasonsText = (reasons: Reason[]) => reasons.map(describeReason).join('; ');

export class PlainReporter implements Reporter {
  #out: NodeJS.WritableStream;
  #err: NodeJS.WritableStream;
  #logsDir: string | undefined;
  /** Each running task's output so far (commands too: for its failure report), and what it printed itself (for its success). */
  #excerpts = new Map<string, TaskExcerpts>();
  #groups = new Set<string>();
  #mode: ReportMode;
  #verbose: boolean;
  #total = 0;
  #settled = 0;
  /** Tasks in the console pool that started: their output is for the user, printed at once. */
  #terminal = new Set<string>();
  #paint: Paint;

  constructor(options: {
    out: NodeJS.WritableStream;
    /** Failures, warnings and the summary; process.stderr by default. */
    err?: NodeJS.WritableStream;
    /** Where the tasks' logs are (`.task/logs`), to name a log when its output is cut. */
    logsDir?: string;
    mode: ReportMode;
    verbose?: boolean;
    colour?: boolean;
  }) {
    this.#out = options.out;
    this.#err = options.err ?? process.stderr;
    this.#logsDir = options.logsDir;
    this.#mode = options.mode;
    this.#verbose = options.verbose ?? false;
    this.#paint = paint(options.colour ?? false);
  }

  #pending = '';
  #flushScheduled = false;

  // Lines go out in one write every 50 ms at most: a build of many short tasks prints two
  // lines a task, and a write each is a system call each (and a wake-up of whatever reads them).
  #print(line: string): void {
    this.#pending += `${line}\n`;
    if (this.#flushScheduled) return;
    this.#flushScheduled = true;
    setTimeout(() => this.#flush(), flushIntervalMs).unref();
  }

  #flush(): void {
    this.#flushScheduled = false;
    if (this.#pending === '') return;
    this.#out.write(this.#pending);
    this.#pending = '';
  }

  /** Writes lines to stderr, after what is pending for stdout, so that a terminal shows them in order. */
  #printError(lines: string[]): void {
    this.#flush();
    if (lines.length > 0) this.#err.write(`${lines.join('\n')}\n`);
  }

  #logOf(task: string): string | undefined {
    return this.#logsDir === undefined ? undefined : path.join(this.#logsDir, `${task}.log`);
  }

  #count(): string {
    this.#settled++;
    return `[${this.#settled}/${this.#total}]`;
  }

  emit(event: BuildEvent): void {
    if (this.#mode === 'question' && event.type !== 'warning') return;
    switch (event.type) {
      case 'plan':
        this.#groups = new Set(event.groups);
        this.#total = event.tasks.length - this.#groups.size;
        return;
      case 'start':
        this.#print(`${this.#paint.bold(event.task)}: ${event.cache ? `restoring from the ${event.cache} cache` : 'running'} (${reasonsText(event.reasons)})`);
        if (event.terminal) {
          // Before the task's own output, and before a command of it writes to the terminal itself.
          this.#terminal.add(event.task);
          this.#flush();
        }
        return;
      case 'output':
        if (this.#terminal.has(event.task)) {
          this.#print(event.line);
          this.#flush();
        } else if (this.#verbose) this.#print(`${event.task} | ${event.line}`);
        excerptsOf(this.#excerpts, event.task).add(event.line, event.command === true);
        return;
      case 'up-to-date': {
        // A group has no work of its own: not a task that is up to date, and not counted.
        if (event.group) return;
        const count = this.#count();
        if (this.#mode === 'explain' || this.#verbose) this.#print(`${count} ${event.task}: ${this.#paint.dim('up to date')}`);
        return;
      }
      case 'would-run':
        this.#print(
          this.#mode === 'explain'
            ? `${this.#count()} ${event.task}: out of date: ${reasonsText(event.reasons)}`
            : `would run ${event.task}: ${reasonsText(event.reasons)}`,
        );
        if (this.#mode === 'explain' && event.cache) this.#print(`    ${event.cache}`);
        // As make -n and ninja -n: the commands it would run, one a line.
        if (this.#mode === 'dry-run') for (const command of event.commands ?? []) this.#print(command);
        return;
      case 'done': {
        // -v adds what its commands used (CPU, peak memory), when they were measured.
        this.#print(`${finishedLine(event, this.#count(), this.#paint)}${this.#verbose ? usageText(event) : ''}`);
        const printed = this.#excerpts.get(event.task)?.printed;
        this.#excerpts.delete(event.task);
        // Not again when -v or the console pool already showed it as it came.
        if (printed && !this.#verbose && !this.#terminal.has(event.task)) for (const line of succeededLines(printed, this.#logOf(event.task))) this.#print(line);
        return;
      }
      case 'failed': {
        const all = this.#excerpts.get(event.task)?.all;
        this.#excerpts.delete(event.task);
        this.#printError(failedLines(event, this.#count(), this.#paint, all, this.#logOf(event.task)));
        return;
      }
      case 'skipped':
        this.#print(finishedLine(event, this.#groups.has(event.task) ? '' : this.#count(), this.#paint));
        return;
      case 'interrupted':
        this.#print(finishedLine(event, this.#count(), this.#paint));
        return;
      case 'progress':
        return;
      case 'warning':
        this.#printError([`task: warning: ${event.message}`]);
        return;
      case 'notice':
        this.#printError([`task: ${event.message}`]);
        return;
      default:
        return unreachable(event);
    }
  }

  async finish(summary: BuildSummary): Promise<void> {
    if (this.#mode === 'question') return;
    // Each failure was reported in full when it happened; the summary names them again, one line each.
    this.#printError(summaryLines(summary, this.#mode, this.#paint, { details: false }));
  }
}

/**
 * An error a `run` threw that is not one of ours (a bug in it, a file it may not write): one line,
 * with the place in the Taskfile or recipe module it came from instead of a stack trace.
 */
function foreignError(error: Error): string {
  const system = describeSystemError(error);
  const name = error.name && error.name !== 'Error' ? `${error.name}: ` : '';
  const where = thrownAt(error, process.cwd());
  const message = `${system ?? `${name}${error.message}`}`.replace(/\s*\n\s*/g, ' ');
  return `${message}${where ? ` (at ${where})` : ''}`;
}

function unreachable(x: never): never {
  throw new Error(`unhandled event ${JSON.stringify(x)}`);
}

/** A task's output while it runs: all of it (a failure shows it) and what it printed itself, without `$ command` lines (a success shows that). */
export class TaskExcerpts {
  readonly all = new OutputExcerpt();
  readonly printed = new OutputExcerpt();

  add(line: string, command: boolean): void {
    this.all.add(line);
    if (!command) this.printed.add(line);
  }
}

/** The task's excerpts, made at its first line. */
export function excerptsOf(excerpts: Map<string, TaskExcerpts>, task: string): TaskExcerpts {
  let found = excerpts.get(task);
  if (!found) excerpts.set(task, (found = new TaskExcerpts()));
  return found;
}

/**
 * As ninja: what a task printed while succeeding (a compiler's warnings), shown under its line in
 * one piece once it is done, indented; the log named when lines were left out.
 */
export function succeededLines(printed: OutputExcerpt, log: string | undefined): string[] {
  if (printed.total === 0) return [];
  const shown = printed.lines();
  const lines = shown.map((line) => `  ${line}`);
  if (printed.cut && log !== undefined) lines.push(`  full log: ${log}`);
  return lines;
}

/** A failed task's line and its report (failureLines), as both displays print it when it fails. */
export function failedLines(event: Extract<BuildEvent, { type: 'failed' }>, count: string, colours: Paint, all: OutputExcerpt | undefined, log: string | undefined): string[] {
  return [finishedLine(event, count, colours), ...failureLines(event.task, event.error, colours, { excerpt: all, log: all && all.total > 0 ? log : undefined })];
}

type Finished = Extract<BuildEvent, { type: 'done' | 'failed' | 'skipped' | 'interrupted' }>;

/**
 * The line of a task that ended, after its `[settled/total]` count. The live display prints the
 * same line above its rows for a task whose output it shows, so both displays word it alike.
 */
export function finishedLine(event: Finished, count: string, colours: Paint): string {
  if (count !== '') count = `${count} `;
  switch (event.type) {
    case 'done':
      return `${count}${event.task}: ${colours.green(event.cache ? `restored from the ${event.cache} cache` : 'done')} in ${formatDuration(event.durationMs)}`;
    case 'failed':
      // What went wrong follows, in failureLines.
      return `${count}${event.task}: ${colours.red('FAILED')} after ${formatDuration(event.durationMs)}`;
    case 'skipped':
      return `${count}${event.task}: ${colours.yellow('skipped')}, dependency ${event.dependency} failed`;
    case 'interrupted':
      return `${count}${event.task}: ${colours.yellow('interrupted')}`;
  }
}

/**
 * How a failure is reported: what went wrong, the command that failed (shell-quoted), the first and
 * last lines of the task's output (`excerpt`, else a failed command's last lines) and the full log.
 */
export function failureLines(task: string, error: Error, colours: Paint = paint(false), options: { excerpt?: OutputExcerpt; log?: string } = {}): string[] {
  const lines: string[] = [];
  if (error instanceof Error && 'exitStatus' in error) lines.push(`task '${task}' ${colours.red('failed')}: ${error.message}`);
  else lines.push(`task '${task}' ${colours.red('failed')}: ${foreignError(error)}`);
  if (error instanceof CommandFailed) lines.push(`  command: ${error.command}`);
  const { excerpt } = options;
  if (excerpt && excerpt.total > 0) {
    lines.push(excerpt.cut ? `  its output, first and last lines of ${excerpt.total}:` : '  its output:');
    for (const line of excerpt.lines()) lines.push(`    ${line}`);
  } else if (error instanceof CommandFailed && error.tail.length > 0) {
    lines.push('  last lines of its output:');
    for (const line of error.tail) lines.push(`    ${line}`);
  }
  const log = error instanceof CommandFailed ? error.logPath : options.log;
  if (log !== undefined) lines.push(`  full log: ${log}`);
  return lines;
}

/**
 * The closing summary: each failure (in full with `details`, else its first line), then the counts.
 * Groups are not counted: they have no work of their own.
 */
export function summaryLines(summary: BuildSummary, mode: ReportMode, colours: Paint = paint(false), options: { details?: boolean } = {}): string[] {
  const lines: string[] = [];
  for (const { task, error } of summary.failed) {
    const failure = failureLines(task, error, colours);
    lines.push(...(options.details === false ? failure.slice(0, 1) : failure));
  }
  const groups = new Set(summary.groups);
  const skipped = summary.skipped.filter(({ task }) => !groups.has(task));
  const notStarted = summary.notStarted.filter((task) => !groups.has(task));
  const parts: string[] = [];
  const add = (count: number, what: string) => count > 0 && parts.push(`${count} ${what}`);
  if (mode === 'build') {
    add(summary.ran.length, 'ran');
    add(summary.restored?.length ?? 0, 'restored from the cache');
    add(summary.upToDate.length, 'up to date');
    add(summary.failed.length, 'failed');
    add(skipped.length, 'skipped');
    add(notStarted.length, 'not started');
    add(summary.interrupted.length, 'interrupted');
    if (summary.ran.length === 0 && !summary.restored?.length && summary.failed.length === 0 && summary.interrupted.length === 0) parts.unshift('nothing to do');
  } else {
    add(summary.wouldRun.length, 'would run');
    add(summary.upToDate.length, 'up to date');
    add(summary.failed.length, 'failed');
    if (summary.wouldRun.length === 0 && summary.failed.length === 0) parts.unshift('nothing to do');
  }
  lines.push(`task: ${parts.join(', ')} (${formatDuration(summary.wallMs)})`);
  const cache = summary.cache;
  if (mode === 'build' && cache && cache.localHits + cache.remoteHits + cache.misses > 0) lines.push(cacheLine(cache));
  if (mode === 'build' && summary.slowBuild) lines.push(...slowBuildLines(summary.slowBuild, colours));
  return lines;
}

/** One line of cache figures: hits by cache, misses, bytes moved, time saved. */
export function cacheLine(cache: CacheStats): string {
  const parts = [`${cache.localHits} local hits`, `${cache.remoteHits} remote hits`, `${cache.misses} misses`];
  if (cache.bytesDown > 0) parts.push(`${formatBytes(cache.bytesDown)} downloaded`);
  if (cache.bytesUp > 0) parts.push(`${formatBytes(cache.bytesUp)} uploaded`);
  if (cache.savedMs > 0) parts.push(`about ${formatDuration(cache.savedMs)} saved`);
  return `task: cache: ${parts.join(', ')}`;
}

function formatBytes(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  const units = ['KiB', 'MiB', 'GiB', 'TiB'];
  let value = bytes / 1024;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return `${value.toFixed(value < 10 ? 1 : 0)} ${units[unit]}`;
}

/** ", CPU 1.2s, peak 35.1 MB" of a finished task's commands, when they were measured. */
function usageText(event: { cpuMs?: number; peakRssKb?: number }): string {
  if (event.cpuMs === undefined || event.peakRssKb === undefined) return '';
  return `, CPU ${formatDuration(event.cpuMs)}, peak ${(event.peakRssKb / 1024).toFixed(1)} MB`;
}
