// The live display on a terminal, as ninja's: a `[settled/total]` count and a row for each task
// running now (its latest line of output, how long it has run), redrawn in place at most ten
// times a second (live-view.ts, live-renderer.ts); above those rows, as tasks end and in order,
// what a person must read: the output of a task that printed something, a failure as the plain
// display reports it (on stderr, as the summary), a skipped or interrupted task. Waiting and quiet finished tasks are only
// counted. listr2 is loaded when the first task starts, so a build with nothing to do never pays.
import path from 'node:path';
import { paint, type Paint } from './display.ts';
import type { BuildEvent, BuildSummary, Reporter } from './events.ts';
import { LiveRenderer, type LiveRendererOptions } from './live-renderer.ts';
import { LiveView, latestSegment } from './live-view.ts';
import { excerptsOf, failedLines, finishedLine, succeededLines, summaryLines, type TaskExcerpts } from './plain-reporter.ts';

/** Loads listr2 (once). */
export function loadListr(): Promise<typeof import('listr2')> {
  return (listr2 ??= import('listr2'));
}
let listr2: Promise<typeof import('listr2')> | undefined;

interface Deferred {
  promise: Promise<void>;
  resolve: () => void;
}

function deferred(): Deferred {
  let resolve!: () => void;
  const promise = new Promise<void>((res) => (resolve = res));
  return { promise, resolve };
}

export class LazyTerminalReporter implements Reporter {
  #out: NodeJS.WriteStream;
  #colours: Paint;
  #logsDir: string;
  #view = new LiveView();
  /** Each running task's lines (their last `\r` segment), for above the rows once it ends: the first and last, as the plain display shows them. */
  #outputs = new Map<string, TaskExcerpts>();
  #groups = new Set<string>();
  /** Set when the first task starts; resolved by `finish`, which ends listr2's one task. */
  #buildOver: Deferred | undefined;
  #listr: Promise<unknown> | undefined;

  constructor(out: NodeJS.WriteStream, options: { colour: boolean; logsDir: string }) {
    this.#out = out;
    this.#colours = paint(options.colour);
    this.#logsDir = options.logsDir;
  }

  get #interactive(): boolean {
    return this.#out.isTTY === true;
  }

  emit(event: BuildEvent): void {
    const view = this.#view;
    switch (event.type) {
      case 'plan':
        // Groups (no work of their own) are not counted, as in the plain display.
        this.#groups = new Set(event.groups);
        view.plan(event.tasks.length - this.#groups.size);
        return;
      case 'warning':
        if (this.#listr) view.print(`task: warning: ${event.message}`, true);
        else process.stderr.write(`task: warning: ${event.message}\n`);
        return;
      case 'notice':
        if (this.#listr) view.print(`task: ${event.message}`, true);
        else process.stderr.write(`task: ${event.message}\n`);
        return;
      case 'would-run':
        return;
      case 'start':
        // Without a terminal there are no rows: a line says what starts, as ninja's does there.
        if (!this.#interactive) view.print(`${view.count()} ${event.task}`);
        view.start(event.task, Date.now());
        if (event.cache) view.output(event.task, `restoring from the ${event.cache} cache`);
        this.#listr ??= this.#startListr();
        return;
      case 'output':
        excerptsOf(this.#outputs, event.task).add(latestSegment(event.line), event.command === true);
        view.output(event.task, event.line);
        return;
      case 'progress':
        view.output(event.task, event.text);
        return;
      case 'up-to-date':
        view.settle(event.task, !event.group);
        return;
      case 'done': {
        view.settle(event.task);
        const output = this.#outputs.get(event.task);
        this.#outputs.delete(event.task);
        // As ninja: a task that printed something (a warning) shows it; a quiet one is only counted.
        if (output && output.printed.total > 0) {
          view.print([finishedLine(event, view.count(), this.#colours), ...succeededLines(output.printed, this.#logPath(event.task))].join('\n'));
        }
        return;
      }
      case 'failed': {
        view.settle(event.task);
        const all = this.#outputs.get(event.task)?.all;
        this.#outputs.delete(event.task);
        // On stderr, as in plain mode.
        view.print(failedLines(event, view.count(), this.#colours, all, this.#logPath(event.task)).join('\n'), true);
        return;
      }
      case 'skipped': {
        const group = this.#groups.has(event.task);
        view.settle(event.task, !group);
        view.print(finishedLine(event, group ? '' : view.count(), this.#colours));
        return;
      }
      case 'interrupted':
        view.settle(event.task);
        this.#outputs.delete(event.task);
        view.print(finishedLine(event, view.count(), this.#colours));
        return;
    }
  }

  /** The log's path as the user would type it: relative to where they are, when inside it. */
  #logPath(task: string): string {
    const file = path.join(this.#logsDir, `${task}.log`);
    const relative = path.relative(process.cwd(), file);
    return relative.startsWith('..') || path.isAbsolute(relative) ? file : relative;
  }

  async #startListr(): Promise<unknown> {
    this.#buildOver = deferred();
    const over = this.#buildOver.promise;
    const { Listr } = await loadListr();
    const rendererOptions: LiveRendererOptions = { view: this.#view, out: this.#out, colours: this.#colours, interactive: this.#interactive };
    const listr = new Listr([{ title: 'build', task: () => over }], {
      renderer: LiveRenderer,
      rendererOptions: rendererOptions as unknown as Record<PropertyKey, unknown>,
      fallbackRenderer: LiveRenderer,
      fallbackRendererOptions: rendererOptions as unknown as Record<PropertyKey, unknown>,
      exitOnError: false,
      registerSignalListeners: false,
    });
    return listr.run().catch(() => undefined);
  }

  async finish(summary: BuildSummary): Promise<void> {
    if (this.#listr) {
      this.#buildOver?.resolve();
      await this.#listr;
    }
    // What was to go above the rows when there never were any (nothing started).
    for (const { text, toStderr } of this.#view.takeAbove()) (toStderr ? process.stderr : this.#out).write(`${text}\n`);
    // The summary goes to stderr, as in plain mode; each failure was reported in full as it happened.
    const lines = summaryLines(summary, 'build', this.#colours, { details: false });
    process.stderr.write(`${lines.join('\n')}\n`);
  }
}
