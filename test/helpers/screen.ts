// A small terminal for tests: plays what a program wrote to a pseudo-terminal onto a screen of
// lines, so a test can assert on what a user is left looking at. It knows what the live display
// and plain lines use (text, \r, \n, cursor up, erase below and to the end of the line, autowrap
// on and off); other escape sequences (colours, the cursor shown or hidden) change no text.

export interface Screen {
  /** Every line ever on the screen, scrolled off or not, trailing spaces removed. */
  lines: string[];
  /** Whether the cursor was left hidden. */
  cursorHidden: boolean;
}

export function play(transcript: string, columns: number): Screen {
  const lines: string[][] = [[]];
  let row = 0;
  let col = 0;
  let wrap = true;
  let cursorHidden = false;
  const line = () => (lines[row] ??= []);
  const sequence = /\x1b\[([?0-9;]*)([A-Za-z@])|\x1b[^[]|[\s\S]/gu;
  for (const match of transcript.matchAll(sequence)) {
    const [whole, params = '', final] = match;
    if (final !== undefined) {
      const n = Number(params.replace(/^\?/, '').split(';')[0] || '1');
      if (final === 'A') row = Math.max(0, row - n);
      else if (final === 'B') row += n;
      else if (final === 'G') col = n - 1;
      else if (final === 'K') line().length = Math.min(line().length, col);
      else if (final === 'J') {
        line().length = Math.min(line().length, col);
        lines.length = row + 1;
      } else if (params === '?7' && (final === 'h' || final === 'l')) wrap = final === 'h';
      else if (params === '?25' && (final === 'h' || final === 'l')) cursorHidden = final === 'l';
      continue;
    }
    if (whole.startsWith('\x1b')) continue;
    if (whole === '\r') col = 0;
    else if (whole === '\n') {
      row++;
      line();
    } else {
      if (col >= columns) {
        if (!wrap) continue;
        row++;
        col = 0;
      }
      const current = line();
      while (current.length < col) current.push(' ');
      current[col++] = whole;
    }
  }
  for (let i = 0; i < lines.length; i++) lines[i] ??= [];
  return { lines: lines.map((chars) => chars.join('').trimEnd()), cursorHidden };
}
