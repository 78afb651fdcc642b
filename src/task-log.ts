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

/** Keeps the last lines of a task's output for failure reports, and writes all of them to the log file. */
export class TaskLog {
  readonly path: string;
  #fd: number | undefined;
  #tail: string[] = [];
  #onLine: (line: string) => void;
  static readonly tailLines = 20;

  constructor(logPath: string, onLine: (line: string) => void) {
    this.path = logPath;
    this.#onLine = onLine;
  }

  /** The first error writing the log file (a full disk); the display goes on without it. */
  writeError: Error | undefined;

  /** Appends one line (without its newline) to the log and the display. */
  line(text: string): void {
    if (!this.writeError) {
      try {
        this.#fd ??= openLog(this.path);
        fs.writeSync(this.#fd, `${text}\n`);
      } catch (error) {
        // Output arrives in stream callbacks, where a throw would crash the tool.
        this.writeError = error as Error;
      }
    }
    this.#tail.push(text);
    if (this.#tail.length > TaskLog.tailLines) this.#tail.shift();
    this.#onLine(text);
  }

  /** The last lines written. */
  tail(): string[] {
    return [...this.#tail];
  }

  close(): void {
    if (this.#fd !== undefined) fs.closeSync(this.#fd);
    this.#fd = undefined;
  }
}

/** Splits a stream of chunks into lines, holding back a partial last line until it is complete. */
export class LineSplitter {
  #partial = '';
  constructor(private readonly emit: (line: string) => void) {}

  push(chunk: string): void {
    const text = this.#partial + chunk;
    const lines = text.split(/\r?\n/);
    this.#partial = lines.pop() ?? '';
    for (const line of lines) this.emit(line);
  }

  flush(): void {
    if (this.#partial) this.emit(this.#partial);
    this.#partial = '';
  }
}
