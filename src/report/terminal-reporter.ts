// The live display on a terminal: listr2 renders engine events, one line per task. listr2 is
// loaded only when the first task starts, so a build with nothing to do never pays for it.
import tty from 'node:tty';
import { paint } from './display.ts';
import type { BuildEvent, BuildSummary, Reporter } from './events.ts';
import { formatDuration } from '../base/format.ts';
import { describeReason } from '../decide/freshness.ts';
import { summaryLines } from './plain-reporter.ts';

let listr2: Promise<typeof import('listr2')> | undefined;

/**
 * What listr2's colour library (colorette) decides from the environment when it loads: off with
 * NO_COLOR (even empty), on with FORCE_COLOR, else on a terminal whose TERM is set and not dumb.
 */
function listrColourFromEnvironment(): boolean {
  const { env, argv } = process;
  if ('NO_COLOR' in env || argv.includes('--no-color')) return false;
  return 'FORCE_COLOR' in env || argv.includes('--color') || (tty.isatty(1) && !!env.TERM && env.TERM !== 'dumb');
}

/**
 * Loads listr2. Its colours are fixed from the environment when it loads, so when `colour` is
 * not what the environment would give, NO_COLOR and FORCE_COLOR say it during the load and are
 * put back after. Commands started meanwhile would inherit them: the CLI calls this with a
 * colour before the build starts anything (`needsEarlyLoad`), and the display later without.
 */
export function loadListr(colour?: boolean): Promise<typeof import('listr2')> {
  if (listr2) return listr2;
  if (colour === undefined || colour === listrColourFromEnvironment()) return (listr2 = import('listr2'));
  const saved = { NO_COLOR: process.env.NO_COLOR, FORCE_COLOR: process.env.FORCE_COLOR };
  if (colour) {
    delete process.env.NO_COLOR;
    process.env.FORCE_COLOR = '1';
  } else {
    process.env.NO_COLOR = '1';
    delete process.env.FORCE_COLOR;
  }
  const restore = () => {
    for (const [name, value] of Object.entries(saved)) {
      if (value === undefined) delete process.env[name];
      else process.env[name] = value;
    }
  };
  listr2 = import('listr2');
  listr2.then(restore, restore);
  return listr2;
}

/** Whether listr2 must be loaded before the build, for its colours to be `colour`. */
export function needsEarlyLoad(colour: boolean): boolean {
  return listr2 === undefined && colour !== listrColourFromEnvironment();
}

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
  #colour: boolean;

  constructor(out: NodeJS.WriteStream, options: { colour: boolean }) {
    this.#out = out;
    this.#colour = options.colour;
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
        row.title = `${event.task} (${event.cache ? `restoring from the ${event.cache} cache: ` : ''}${event.reasons.map(describeReason).join('; ')})`;
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
        row.title = `${event.task} (${event.cache ? `from the ${event.cache} cache, ` : ''}${formatDuration(event.durationMs)})`;
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
    const { Listr } = await loadListr();
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
    for (const line of summaryLines(summary, 'build', paint(this.#colour))) this.#out.write(`${line}\n`);
  }
}
