// Draws the live display (live-view.ts) on the terminal, as a listr2 renderer: listr2 runs the
// build's display as one task and calls this renderer's `render` when it starts and `end` when
// the build is over (listr2's own renderer draws a row for every task, waiting ones included,
// and redraws on every event: seconds of CPU on a build of a few dozen tasks).
//
// Drawing, as ninja does: the rows are redrawn in place, at most every `redrawMs` and only when
// their text changed; lines for above them are written first, where the rows were, so they stay
// on the screen in order while the rows move down. While it draws, whatever else writes to
// stdout or stderr (a warning, the interrupt message, a Taskfile's console.log) goes above too,
// instead of into the middle of the rows.
import type { Paint } from './display.ts';
import type { LiveView } from './live-view.ts';

export interface LiveRendererOptions {
  view: LiveView;
  out: NodeJS.WriteStream;
  colours: Paint;
  /** A terminal: rows redrawn in place. Otherwise (`--progress=live` into a pipe) only the lines above are written. */
  interactive: boolean;
}

/** At most ten redraws a second: a person reads no faster, and each costs a write to the terminal. */
export const redrawMs = 100;

const hideCursor = '\x1b[?25l';
const showCursor = '\x1b[?25h';
/** Rows are cut to the width already; with wrapping off, a character wider than counted cannot push one onto two lines. */
const wrapOff = '\x1b[?7l';
const wrapOn = '\x1b[?7h';
const eraseDown = '\x1b[J';

type Write = (chunk: string | Uint8Array, ...rest: unknown[]) => boolean;

export class LiveRenderer {
  /** listr2 keeps a renderer that says it works without a terminal: this one writes plain lines there. */
  static nonTTY = true;
  static rendererOptions: Record<PropertyKey, unknown> = {};
  static rendererTaskOptions: Record<PropertyKey, unknown> = {};

  #options: LiveRendererOptions;
  #write: (text: string) => void;
  #writeStderr: (text: string) => void;
  #timer: NodeJS.Timeout | undefined;
  /** Lines of rows on the screen now, the cursor at the end of the last one. */
  #drawn = 0;
  #lastFrame = '';
  #restore: Array<() => void> = [];
  #ended = false;
  #onExit = () => this.end();

  constructor(_tasks: unknown, options: Record<PropertyKey, unknown>) {
    this.#options = options as unknown as LiveRendererOptions;
    const { out } = this.#options;
    const write = out.write as Write;
    this.#write = (text) => void write.call(out, text);
    // Taken before `render` replaces process.stderr.write.
    const writeStderr = process.stderr.write as Write;
    this.#writeStderr = (text) => void writeStderr.call(process.stderr, text);
  }

  render(): void {
    this.#hijack(process.stdout, false);
    this.#hijack(process.stderr, true);
    if (this.#options.interactive) this.#write(hideCursor);
    // process.exit (a second Ctrl-C) skips `end`: the terminal gets its cursor back anyway.
    process.on('exit', this.#onExit);
    this.draw();
    this.#timer = setInterval(() => this.draw(), redrawMs);
    this.#timer.unref();
  }

  /** Writes through to the terminal what others write while the rows are drawn, above the rows. */
  #hijack(stream: NodeJS.WriteStream, toStderr: boolean): void {
    const original = stream.write;
    const { view } = this.#options;
    stream.write = ((chunk: string | Uint8Array, encoding?: unknown, callback?: unknown) => {
      view.print(typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString(), toStderr);
      const done = typeof encoding === 'function' ? encoding : callback;
      if (typeof done === 'function') process.nextTick(done as () => void);
      return true;
    }) as typeof stream.write;
    this.#restore.push(() => {
      stream.write = original;
    });
  }

  /** Writes what waits to go above, then the rows if they changed; `final`: no rows any more. */
  draw(final = false): void {
    const { view, out, colours, interactive } = this.#options;
    const above = view.takeAbove();
    const frame = final || !interactive ? '' : view.frame(Date.now(), out.columns || 80, out.rows || 24, colours).join('\n');
    if (above.length === 0 && frame === this.#lastFrame) return;
    let text = this.#drawn > 0 ? `\r${this.#drawn > 1 ? `\x1b[${this.#drawn - 1}A` : ''}${eraseDown}` : '';
    for (const { text: lines, toStderr } of above) {
      const whole = lines.endsWith('\n') ? lines : `${lines}\n`;
      if (!toStderr) {
        text += whole;
        continue;
      }
      // stderr's lines go to stderr, in their place among stdout's.
      this.#write(text);
      text = '';
      this.#writeStderr(whole);
    }
    if (frame !== '') text += `${wrapOff}${frame}${wrapOn}`;
    this.#drawn = frame === '' ? 0 : frame.split('\n').length;
    this.#lastFrame = frame;
    if (text !== '') this.#write(text);
  }

  end(): void {
    if (this.#ended) return;
    this.#ended = true;
    if (this.#timer) clearInterval(this.#timer);
    process.off('exit', this.#onExit);
    this.draw(true);
    for (const restore of this.#restore) restore();
    this.#restore = [];
    if (this.#options.interactive) this.#write(showCursor);
  }
}
