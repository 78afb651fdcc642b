// `--json`: the engine's events as one JSON object a line on stdout, for CI systems and editors.
// A `plan` first, then `started` and `finished` per task, then a `summary`. Nothing else goes to
// stdout: warnings, and each failure's report as the plain display prints it, go to stderr.
import fs from 'node:fs';
import path from 'node:path';
import { CommandFailed } from '../base/errors.ts';
import type { BuildEvent, BuildSummary, Reporter } from './events.ts';
import { describeReason, type Reason } from '../decide/freshness.ts';
import { failureLines } from './plain-reporter.ts';

/** One task of the plan: whether it will run, and why (or why not). */
export interface PlanEntry {
  task: string;
  run: boolean;
  reasons: string[];
}

const describe = (reasons: Reason[]) => reasons.map(describeReason);

/**
 * Collects a dry run's decisions into the plan. The CLI runs the engine's own dry run (as `-n`)
 * with this before a `--json` build, so the plan says, before anything runs, what will and why.
 */
export class PlanCollector implements Reporter {
  readonly entries = new Map<string, PlanEntry>();

  emit(event: BuildEvent): void {
    switch (event.type) {
      case 'would-run':
      case 'start':
        this.entries.set(event.task, { task: event.task, run: true, reasons: describe(event.reasons) });
        return;
      case 'up-to-date':
        this.entries.set(event.task, { task: event.task, run: false, reasons: ['up to date'] });
        return;
      case 'failed':
        this.entries.set(event.task, { task: event.task, run: true, reasons: [event.error.message] });
        return;
      case 'skipped':
        this.entries.set(event.task, { task: event.task, run: false, reasons: [`dependency ${event.dependency} failed`] });
        return;
      default:
        return;
    }
  }

  async finish(): Promise<void> {}
}

export class JsonReporter implements Reporter {
  #out: NodeJS.WritableStream;
  #targets: readonly string[];
  #logsDir: string;
  /** The plan the CLI's dry run made; without one (-n, --explain, -q), it is made from this run's events. */
  #plan: PlanCollector;
  #planned: boolean;
  #order: readonly string[] = [];
  /** Lines held until the plan is out, when the plan comes from this run's own events. */
  #held: string[] = [];
  #reasons = new Map<string, string[]>();
  #finished = new Set<string>();
  #started = new Map<string, number>();

  constructor(options: { out: NodeJS.WritableStream; targets: readonly string[]; logsDir: string; plan?: PlanCollector }) {
    this.#out = options.out;
    this.#targets = options.targets;
    this.#logsDir = options.logsDir;
    this.#planned = options.plan !== undefined;
    this.#plan = options.plan ?? new PlanCollector();
  }

  #write(object: Record<string, unknown>): void {
    const line = `${JSON.stringify(object)}\n`;
    if (this.#planned) this.#out.write(line);
    else this.#held.push(line);
  }

  #writePlan(): void {
    const tasks = this.#order.map((task) => this.#plan.entries.get(task) ?? { task, run: false, reasons: ['not decided'] });
    this.#out.write(`${JSON.stringify({ event: 'plan', targets: this.#targets, tasks })}\n`);
  }

  #finish(task: string, status: string, fields: Record<string, unknown> = {}): void {
    this.#finished.add(task);
    this.#write({ event: 'finished', task, status, ...fields, time: new Date().toISOString() });
  }

  /** The task's log, when this run wrote one (a task that succeeds without a word leaves none). */
  #log(task: string): { log?: string } {
    const file = path.join(this.#logsDir, `${task}.log`);
    const started = this.#started.get(task);
    const stat = fs.statSync(file, { throwIfNoEntry: false });
    return stat && started !== undefined && stat.mtimeMs >= started - 5 ? { log: file } : {};
  }

  emit(event: BuildEvent): void {
    if (!this.#planned) this.#plan.emit(event);
    switch (event.type) {
      case 'plan':
        this.#order = event.tasks;
        if (this.#planned) this.#writePlan();
        return;
      case 'start':
        this.#reasons.set(event.task, describe(event.reasons));
        this.#started.set(event.task, Date.now());
        this.#write({ event: 'started', task: event.task, time: new Date().toISOString(), reasons: describe(event.reasons) });
        return;
      case 'output':
      case 'progress':
      case 'would-run':
        return;
      case 'up-to-date':
        return this.#finish(event.task, 'up-to-date', { reason: 'up to date', durationMs: 0 });
      case 'done':
        return this.#finish(event.task, event.cache ? 'restored' : 'done', {
          reason: this.#reason(event.task),
          durationMs: Math.round(event.durationMs),
          ...(event.cpuMs !== undefined ? { cpuMs: Math.round(event.cpuMs), peakRssKb: event.peakRssKb } : {}),
          ...(event.cache ? { cache: event.cache } : this.#log(event.task)),
        });
      case 'failed': {
        const { error } = event;
        // A failed command names its log; another failure has one if it wrote any (one stat).
        const written = error instanceof CommandFailed ? {} : this.#log(event.task);
        const failure: Record<string, unknown> =
          error instanceof CommandFailed
            ? { log: error.logPath, ...(error.exitCode !== undefined ? { exitCode: error.exitCode } : {}), command: error.command, error: error.message }
            : { ...written, error: error.message };
        this.#finish(event.task, 'failed', { reason: this.#reason(event.task), durationMs: Math.round(event.durationMs), ...failure });
        // For whoever watches the CI log rather than reads the JSON: what failed, its last lines, its log.
        process.stderr.write(`${failureLines(event.task, error, undefined, written).map((line) => `task: ${line}`).join('\n')}\n`);
        return;
      }
      case 'skipped':
        return this.#finish(event.task, 'skipped', { reason: `dependency ${event.dependency} failed`, durationMs: 0 });
      case 'interrupted':
        return this.#finish(event.task, 'interrupted', { reason: this.#reason(event.task) });
      case 'warning':
        process.stderr.write(`task: warning: ${event.message}\n`);
        return;
      case 'notice':
        process.stderr.write(`task: ${event.message}\n`);
        return;
      default:
        return unreachable(event);
    }
  }

  #reason(task: string): string {
    return (this.#reasons.get(task) ?? []).join('; ');
  }

  async finish(summary: BuildSummary): Promise<void> {
    // Tasks the build never reached, after a failure or an interrupt, end as skipped too.
    for (const task of summary.notStarted) {
      if (!this.#finished.has(task)) this.#finish(task, 'skipped', { reason: 'not started: the build stopped', durationMs: 0 });
    }
    if (!this.#planned) {
      this.#planned = true;
      this.#writePlan();
      for (const line of this.#held) this.#out.write(line);
    }
    const counts = {
      ran: summary.ran.length,
      upToDate: summary.upToDate.length,
      wouldRun: summary.wouldRun.length,
      failed: summary.failed.length,
      skipped: summary.skipped.length,
      notStarted: summary.notStarted.length,
      interrupted: summary.interrupted.length,
      restored: summary.restored?.length ?? 0,
    };
    // After a build that took longer than a few seconds: where the time went (report/slow-build.ts).
    if (summary.slowBuild) this.#write({ event: 'slow-build', ...summary.slowBuild });
    const line = JSON.stringify({ event: 'summary', counts, durationMs: Math.round(summary.wallMs), exitStatus: summary.exitStatus ?? null, ...(summary.cache ? { cache: summary.cache } : {}) });
    await new Promise<void>((resolve) => this.#out.write(`${line}\n`, () => resolve()));
  }
}

function unreachable(x: never): never {
  throw new Error(`unhandled event ${JSON.stringify(x)}`);
}
