// What the live display shows, as ninja does: a `[settled/total]` count, one row for each task
// running now (its name, how long it has run, its latest line of output), and the lines to print
// above those rows, once and in order, as tasks end. Pure: the reporter feeds it events, the
// renderer (live-renderer.ts) asks it for text; neither time nor the terminal is read here.
import type { Paint } from './display.ts';

/** A task running now: when it started, and the latest line it printed (or the command it runs). */
interface Running {
  startedAt: number;
  latest: string;
}

/** A block of lines for above the rows, and the stream it belongs on. */
export interface Above {
  text: string;
  toStderr?: boolean;
}

/** Escape sequences (CSI, OSC, two-byte ones) and control characters other than tab. */
const escapes = /\x1b\[[0-?]*[ -/]*[@-~]|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)?|\x1b[@-_]?|[\x00-\x08\x0b-\x1f\x7f]/g;

/**
 * What a terminal shows of a line a program redraws with `\r` (a progress bar): its last
 * non-empty `\r`-separated segment, without escape sequences that would move the cursor or colour
 * the display's rows.
 */
export function latestSegment(line: string): string {
  const segments = line.split('\r');
  let last = '';
  for (let i = segments.length - 1; i >= 0; i--) {
    last = segments[i]!.replace(escapes, '').replace(/\t/g, ' ').trimEnd();
    if (last !== '') break;
  }
  return last;
}

/** 5s, 2m05s: a running task's time, in whole seconds so its row changes once a second. */
export function formatElapsed(ms: number): string {
  const seconds = Math.max(0, Math.floor(ms / 1000));
  if (seconds < 60) return `${seconds}s`;
  return `${Math.floor(seconds / 60)}m${String(seconds % 60).padStart(2, '0')}s`;
}

/** At most `width` characters (code points) of `text`, with an ellipsis when cut. */
function fit(text: string, width: number): string {
  if (width <= 0) return '';
  const chars = [...text];
  if (chars.length <= width) return text;
  return `${chars.slice(0, Math.max(0, width - 1)).join('')}…`;
}

/** Names wider than this are not padded to: the output column stays near the left. */
const maxNameColumn = 28;

export class LiveView {
  #total = 0;
  #settled = 0;
  #running = new Map<string, Running>();
  #above: Above[] = [];

  plan(total: number): void {
    this.#total = total;
  }

  /** `[settled/total]`, counted as the plain display counts. */
  count(): string {
    return `[${this.#settled}/${this.#total}]`;
  }

  start(task: string, now: number): void {
    this.#running.set(task, { startedAt: now, latest: '' });
  }

  /** A line of the task's output, or its progress so far: it becomes the task's latest line. */
  output(task: string, line: string): void {
    const running = this.#running.get(task);
    if (!running) return;
    const latest = latestSegment(line);
    if (latest !== '') running.latest = latest;
  }

  /**
   * A task ended (any way, up to date too): it is counted (unless `counted` is false: a group,
   * with no work of its own) and its row goes. Call before its lines.
   */
  settle(task: string, counted = true): void {
    if (counted) this.#settled++;
    this.#running.delete(task);
  }

  /** Lines for above the rows (a finished task's output, a warning), printed at the next draw. */
  print(text: string, toStderr = false): void {
    this.#above.push({ text, toStderr });
  }

  /** The lines waiting to go above the rows, taken once. */
  takeAbove(): Above[] {
    const above = this.#above;
    this.#above = [];
    return above;
  }

  get runningCount(): number {
    return this.#running.size;
  }

  /**
   * The rows as they look at `now`: the count, then one row a running task (oldest first), each
   * cut to `columns - 1` characters so that none wraps, and no more than `rows - 1` lines in all
   * (the rest counted in a last row) so the whole frame stays on the screen and can be redrawn.
   */
  frame(now: number, columns: number, rows: number, colours: Paint): string[] {
    const width = Math.max(1, columns - 1);
    const running = [...this.#running];
    const head = running.length === 0 ? this.count() : `${this.count()} ${running.length} running`;
    const lines = [colours.bold(fit(head, width))];
    const room = Math.max(1, rows - 2);
    const shown = running.length > room ? running.slice(0, room - 1) : running;
    const nameColumn = Math.min(maxNameColumn, Math.max(0, ...shown.map(([name]) => name.length)));
    for (const [name, { startedAt, latest }] of shown) {
      const elapsed = formatElapsed(now - startedAt).padStart(5);
      const label = fit(name, Math.max(1, width - 2)).padEnd(nameColumn);
      const prefixWidth = 2 + [...label].length + 1 + elapsed.length + 2;
      const rest = fit(latest, width - prefixWidth);
      const row = `  ${colours.bold(label)} ${colours.dim(elapsed)}${rest ? `  ${rest}` : ''}`;
      lines.push(prefixWidth > width ? fit(`  ${label} ${elapsed}`, width) : row);
    }
    if (shown.length < running.length) lines.push(colours.dim(fit(`  … and ${running.length - shown.length} more running`, width)));
    return lines;
  }
}
