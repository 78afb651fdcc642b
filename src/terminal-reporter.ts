// The live display on a terminal: listr2 renders engine events, one line per task. listr2 is
// loaded only when the first task starts, so a build with nothing to do never pays for it.
import type { BuildEvent, BuildSummary, Reporter } from './events.ts';
import { formatDuration } from './format.ts';
import { describeReason } from './freshness.ts';
import { summaryLines } from './plain-reporter.ts';

interface Deferred {
  promise: Promise<void>;
  resolve: () => void;
  reject: (error: Error) => void;
}

function deferred(): Deferred {
  let resolve!: () => void;
  let reject!: (error: Error) => void;
  const promise = new Promise<void>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  // A task may fail before listr2 has loaded and awaits it: that is not an unhandled rejection.
  promise.catch(() => {});
  return { promise, resolve, reject };
}

/** What the listr2 task of one engine task is waiting to be told. */
interface Row {
  started: Deferred;
  ended: Deferred;
  /** Set when the task ends without running: up to date, skipped, not started. */
  skipMessage?: string;
  title?: string;
  output?: (line: string) => void;
  /**
   * Set once the task has ended, whatever way. A command being stopped may still print (one that
   * traps SIGTERM): listr2 has closed the row's output by then, and writing to it throws.
   */
  closed?: boolean;
}

export class LazyTerminalReporter implements Reporter {
  #out: NodeJS.WriteStream;
  #plan: readonly string[] = [];
  #settledEarly = new Set<string>();
  #rows = new Map<string, Row>();
  #listr: Promise<unknown> | undefined;

  constructor(out: NodeJS.WriteStream) {
    this.#out = out;
  }

  emit(event: BuildEvent): void {
    if (event.type === 'plan') {
      this.#plan = event.tasks;
      return;
    }
    if (event.type === 'warning') {
      process.stderr.write(`task: warning: ${event.message}\n`);
      return;
    }
    if (event.type === 'would-run') return;
    if (!this.#listr) {
      if (event.type !== 'start') {
        this.#settledEarly.add(event.task);
        return;
      }
      this.#listr = this.#startListr();
    }
    const row = this.#rows.get(event.task);
    if (!row) return;
    switch (event.type) {
      case 'start':
        row.title = `${event.task} (${event.reasons.map(describeReason).join('; ')})`;
        row.started.resolve();
        return;
      case 'output':
        if (row.closed) return;
        try {
          row.output?.(event.line);
        } catch {
          // The display must never stop a build: a line it cannot show is in the task's log.
        }
        return;
      case 'up-to-date':
        return this.#skip(row, `${event.task}: up to date`);
      case 'skipped':
        return this.#skip(row, `${event.task}: skipped, dependency ${event.dependency} failed`);
      case 'interrupted':
        row.closed = true;
        row.started.resolve();
        row.ended.reject(new Error(`${event.task}: interrupted`));
        return;
      case 'done':
        row.closed = true;
        row.title = `${event.task} (${formatDuration(event.durationMs)})`;
        row.ended.resolve();
        return;
      case 'failed':
        row.closed = true;
        row.started.resolve();
        row.ended.reject(new Error(`${event.task}: ${event.error.message}`));
        return;
    }
  }

  #skip(row: Row, message: string): void {
    row.closed = true;
    row.skipMessage = message;
    row.started.resolve();
    row.ended.resolve();
  }

  async #startListr(): Promise<unknown> {
    const names = this.#plan.filter((name) => !this.#settledEarly.has(name));
    for (const name of names) this.#rows.set(name, { started: deferred(), ended: deferred() });
    const { Listr } = await import('listr2');
    const tasks = names.map((name) => {
      const row = this.#rows.get(name)!;
      return {
        title: `${name} (waiting)`,
        task: async (_ctx: unknown, task: { title: string; output: string; skip(message?: string): void }) => {
          await row.started.promise;
          if (row.skipMessage) return task.skip(row.skipMessage);
          task.title = row.title ?? name;
          row.output = (line) => {
            task.output = line;
          };
          await row.ended.promise;
          if (row.skipMessage) return task.skip(row.skipMessage);
          task.title = row.title ?? name;
        },
      };
    });
    const listr = new Listr(tasks, {
      concurrent: true,
      exitOnError: false,
      registerSignalListeners: false,
      rendererOptions: { collapseSkips: true, showErrorMessage: true },
    });
    return listr.run().catch(() => undefined);
  }

  async finish(summary: BuildSummary): Promise<void> {
    // Tasks the build never reached end as "not started" so that listr2 can finish.
    for (const row of this.#rows.values()) this.#skip(row, row.skipMessage ?? 'not started');
    await this.#listr;
    for (const line of summaryLines(summary, 'build')) this.#out.write(`${line}\n`);
  }
}
