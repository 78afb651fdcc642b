// The live display on a terminal, as ninja's: a `[settled/total]` count and a row for each task
// running now (its latest line of output, how long it has run), redrawn in place at most ten
// times a second (live-view.ts, live-renderer.ts); above those rows, as tasks end and in order,
// what a person must read: the output of a task that printed something, a failure as the plain
// display reports it, a skipped or interrupted task. Waiting and quiet finished tasks are only
// counted. listr2 is loaded when the first task starts, so a build with nothing to do never pays.
import path from 'node:path';
import { paint, type Paint } from './display.ts';
import type { BuildEvent, BuildSummary, Reporter } from './events.ts';
import { LiveRenderer, type LiveRendererOptions } from './live-renderer.ts';
import { LiveView, latestSegment } from './live-view.ts';
import { failureLines, finishedLine, summaryLines } from './plain-reporter.ts';

/** Loads listr2 (once). */
export function loadListr(): Promise<typeof import('listr2')> {
  return (listr2 ??= import('listr2'));
}
let listr2: Promise<typeof import('listr2')> | undefined;

/**
 * A running task's lines, for above the rows once it ends: all of them when there are few, else
 * the first and the last (the log has them all), so that memory stays small and a chatty task
 * does not fill the screen.
 */
class TaskOutput {
  static readonly headLines = 10;
  static readonly tailLines = 30;
  #head: string[] = [];
  #tail: string[] = [];
  #count = 0;
  /** A line that is not a `$ command` line: the task printed something. */
  printed = false;

  add(line: string, command: boolean): void {
    if (!command) this.printed = true;
    this.#count++;
    const shown = latestSegment(line);
    if (this.#head.length < TaskOutput.headLines) this.#head.push(shown);
    else {
      this.#tail.push(shown);
      if (this.#tail.length > TaskOutput.tailLines) this.#tail.shift();
    }
  }

  lines(logPath: string): string[] {
    const left = this.#count - this.#head.length - this.#tail.length;
    if (left === 0) return [...this.#head, ...this.#tail];
    return [...this.#head, `  … ${left} more lines, all in ${logPath}`, ...this.#tail];
  }
}

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
  #outputs = new Map<string, TaskOutput>();
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
        view.plan(event.tasks.length);
        return;
      case 'warning':
        if (this.#listr) view.print(`task: warning: ${event.message}`, true);
        else process.stderr.write(`task: warning: ${event.message}\n`);
        return;
      case 'would-run':
        return;
      case 'start':
        // Without a terminal there are no rows: a line says what starts, as ninja's does there.
        if (!this.#interactive) view.print(`${view.count()} ${event.task}`);
        view.start(event.task, Date.now());
        if (event.cache) view.output(event.task, `restoring from the ${event.cache} cache`);
        this.#outputs.set(event.task, new TaskOutput());
        this.#listr ??= this.#startListr();
        return;
      case 'output':
        this.#outputs.get(event.task)?.add(event.line, event.command === true);
        view.output(event.task, event.line);
        return;
      case 'progress':
        view.output(event.task, event.text);
        return;
      case 'up-to-date':
        view.settle(event.task);
        return;
      case 'done': {
        view.settle(event.task);
        const output = this.#outputs.get(event.task);
        this.#outputs.delete(event.task);
        // As ninja: a task that printed something (a warning) shows it; a quiet one is only counted.
        if (output?.printed) {
          const lines = output.lines(this.#logPath(event.task));
          view.print([finishedLine(event, view.count(), this.#colours), ...lines].join('\n'));
        }
        return;
      }
      case 'failed':
        view.settle(event.task);
        this.#outputs.delete(event.task);
        view.print(failureLines(event.task, event.error, this.#colours).join('\n'));
        return;
      case 'skipped':
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
    for (const line of summaryLines(summary, 'build', this.#colours)) this.#out.write(`${line}\n`);
  }
}
