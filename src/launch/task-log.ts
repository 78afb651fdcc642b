// The log of a task's last run: `.task/logs/NAME.log`, and the lines the display shows.
import fs from 'node:fs';
import path from 'node:path';

/** Opens a log for writing; its folder is made only when missing (one mkdir a run, not a task). */
function openLog(file: string): number {
  try {
    return fs.openSync(file, 'w');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
    fs.mkdirSync(path.dirname(file), { recursive: true });
    return fs.openSync(file, 'w');
  }
}

/**
 * Keeps the last lines of a task's output for failure reports, and writes them to the log file.
 * The `$ command` lines are held back until the task prints something or fails: a task that
 * succeeds without a word leaves no log, which spares a file creation a task (about 0.1 ms, and
 * far more while commands keep the disk busy).
 */
export class TaskLog {
  readonly path: string;
  #fd: number | undefined;
  #held: string[] = [];
  #closed = false;
  #tail: string[] = [];
  #onLine: (line: string, command: boolean) => void;
  #onProgress: (text: string) => void;
  static readonly tailLines = 20;

  /**
   * `onLine` gets every line for the display (`command`: a `$ command` line, not output);
   * `onProgress` the unfinished last line of a command's output (see `progress`); `earlier`
   * false when the caller knows no earlier run left this file.
   */
  constructor(logPath: string, onLine: (line: string, command: boolean) => void, onProgress: (text: string) => void = () => {}, earlier = true) {
    this.path = logPath;
    this.#onLine = onLine;
    this.#onProgress = onProgress;
    this.#earlier = earlier;
  }

  readonly #earlier: boolean;

  /** The first error writing the log file (a full disk); the display goes on without it. */
  writeError: Error | undefined;

  /** A command about to run (`$ sh -c ...`): shown now, written with the task's output or its failure. */
  command(text: string): void {
    if (this.#fd === undefined) this.#held.push(text);
    else this.#write(text);
    this.#remember(text, true);
  }

  /** Appends one line (without its newline) to the log and the display. */
  line(text: string): void {
    this.#write(text);
    this.#remember(text, false);
  }

  /**
   * A line not finished yet (a progress bar that redraws itself with `\r` and ends its line
   * only when done): shown by a live display, written to the log once it is a whole line.
   */
  progress(text: string): void {
    this.#onProgress(text);
  }

  /** Writes what was held back: the task failed, and its log must say what it ran. */
  keep(): void {
    if (this.#held.length > 0) this.#write(undefined);
  }

  #write(text: string | undefined): void {
    // Output after close (a command still stopping after a timeout) is shown, but not written:
    // reopening the file would wipe what was written.
    if (this.writeError || this.#closed) return;
    try {
      if (this.#fd === undefined) {
        this.#fd = openLog(this.path);
        if (this.#held.length > 0) fs.writeSync(this.#fd, `${this.#held.join('\n')}\n`);
        this.#held = [];
      }
      if (text !== undefined) fs.writeSync(this.#fd, `${text}\n`);
    } catch (error) {
      // Output arrives in stream callbacks, where a throw would crash the tool.
      this.writeError = error as Error;
    }
  }

  #remember(text: string, command: boolean): void {
    this.#tail.push(text);
    if (this.#tail.length > TaskLog.tailLines) this.#tail.shift();
    this.#onLine(text, command);
  }

  /** The last lines written. */
  tail(): string[] {
    return [...this.#tail];
  }

  /** Ends the log. Without a line written, an earlier run's log is removed: it is not this run's. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    if (this.#fd !== undefined) fs.closeSync(this.#fd);
    // existsSync first: removing a missing file costs an exception, and most logs are missing.
    else if (!this.writeError && this.#earlier && fs.existsSync(this.path)) {
      try {
        fs.rmSync(this.path, { force: true });
      } catch (error) {
        // Another user's log in a folder this one may not write (`-n` without root): a warning.
        this.writeError = error as Error;
      }
    }
    this.#fd = undefined;
    this.#held = [];
  }
}

/**
 * Splits a stream of chunks into lines, holding back a partial last line until it is complete;
 * `onPartial` is told that partial line as it grows (a progress bar redrawn with `\r`).
 */
export class LineSplitter {
  #partial = '';
  constructor(
    private readonly emit: (line: string) => void,
    private readonly onPartial: (partial: string) => void = () => {},
  ) {}

  push(chunk: string): void {
    const text = this.#partial + chunk;
    const lines = text.split(/\r?\n/);
    this.#partial = lines.pop() ?? '';
    for (const line of lines) this.emit(line);
    if (this.#partial !== '') this.onPartial(this.#partial);
  }

  flush(): void {
    if (this.#partial) this.emit(this.#partial);
    this.#partial = '';
  }
}
