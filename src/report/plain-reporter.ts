// Plain lines, for output that is not a terminal (CI, pipes) and for -n, --explain and -q.

import { CommandFailed, describeSystemError, thrownAt } from '../base/errors.ts';
import { paint, type Paint } from './display.ts';
import type { BuildEvent, BuildSummary, CacheStats, Reporter } from './events.ts';
import { formatDuration } from '../base/format.ts';
import { describeReason, type Reason } from '../decide/freshness.ts';

export type ReportMode = 'build' | 'dry-run' | 'explain' | 'question';

const flushIntervalMs = 50;

const reasonsText = (reasons: Reason[]) => reasons.map(describeReason).join('; ');

export class PlainReporter implements Reporter {
  #out: NodeJS.WritableStream;
  #mode: ReportMode;
  #verbose: boolean;
  #total = 0;
  #settled = 0;
  /** Tasks in the console pool that started: their output is for the user, printed at once. */
  #terminal = new Set<string>();
  #paint: Paint;

  constructor(options: { out: NodeJS.WritableStream; mode: ReportMode; verbose?: boolean; colour?: boolean }) {
    this.#out = options.out;
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

  #count(): string {
    this.#settled++;
    return `[${this.#settled}/${this.#total}]`;
  }

  emit(event: BuildEvent): void {
    if (this.#mode === 'question' && event.type !== 'warning') return;
    switch (event.type) {
      case 'plan':
        this.#total = event.tasks.length;
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
        return;
      case 'up-to-date': {
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
      case 'done':
        // -v adds what its commands used (CPU, peak memory), when they were measured.
        this.#print(`${finishedLine(event, this.#count(), this.#paint)}${this.#verbose ? usageText(event) : ''}`);
        return;
      case 'failed':
      case 'skipped':
      case 'interrupted':
        this.#print(finishedLine(event, this.#count(), this.#paint));
        return;
      case 'progress':
        return;
      case 'warning':
        this.#flush();
        process.stderr.write(`task: warning: ${event.message}\n`);
        return;
      default:
        return unreachable(event);
    }
  }

  async finish(summary: BuildSummary): Promise<void> {
    if (this.#mode === 'question') return;
    for (const line of summaryLines(summary, this.#mode, this.#paint)) this.#print(line);
    this.#flush();
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

type Finished = Extract<BuildEvent, { type: 'done' | 'failed' | 'skipped' | 'interrupted' }>;

/**
 * The line of a task that ended, after its `[settled/total]` count. The live display prints the
 * same line above its rows for a task whose output it shows, so both displays word it alike.
 */
export function finishedLine(event: Finished, count: string, colours: Paint): string {
  switch (event.type) {
    case 'done':
      return `${count} ${event.task}: ${colours.green(event.cache ? `restored from the ${event.cache} cache` : 'done')} in ${formatDuration(event.durationMs)}`;
    case 'failed':
      return `${count} ${event.task}: ${colours.red('FAILED')} after ${formatDuration(event.durationMs)}: ${event.error.message}`;
    case 'skipped':
      return `${count} ${event.task}: ${colours.yellow('skipped')}, dependency ${event.dependency} failed`;
    case 'interrupted':
      return `${count} ${event.task}: ${colours.yellow('interrupted')}`;
  }
}

/** One failure as the summary reports it: its message, output tail and log; the live display prints it as the task fails. */
export function failureLines(task: string, error: Error, colours: Paint = paint(false)): string[] {
  const lines: string[] = [];
  if (error instanceof Error && 'exitStatus' in error) lines.push(`task '${task}' ${colours.red('failed')}: ${error.message}`);
  else lines.push(`task '${task}' ${colours.red('failed')}: ${foreignError(error)}`);
  if (error instanceof CommandFailed) {
    if (error.tail.length > 0) {
      lines.push('  last lines of its output:');
      for (const line of error.tail) lines.push(`    ${line}`);
    }
    lines.push(`  full log: ${error.logPath}`);
  }
  return lines;
}

/** The closing summary and, for each failure, its command, exit code, output tail and log. */
export function summaryLines(summary: BuildSummary, mode: ReportMode, colours: Paint = paint(false)): string[] {
  const lines: string[] = [];
  for (const { task, error } of summary.failed) lines.push(...failureLines(task, error, colours));
  const parts: string[] = [];
  const add = (count: number, what: string) => count > 0 && parts.push(`${count} ${what}`);
  if (mode === 'build') {
    add(summary.ran.length, 'ran');
    add(summary.restored?.length ?? 0, 'restored from the cache');
    add(summary.upToDate.length, 'up to date');
    add(summary.failed.length, 'failed');
    add(summary.skipped.length, 'skipped');
    add(summary.notStarted.length, 'not started');
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
