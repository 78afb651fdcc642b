// Which display a run gets (the live one or plain lines) and whether it uses colour, from the
// --progress and --color options, the terminal and the environment. Pure: a test gives it all.

export const progressChoices = ['auto', 'plain', 'live'] as const;
export type Progress = (typeof progressChoices)[number];
export const colorChoices = ['auto', 'always', 'never'] as const;
export type ColorChoice = (typeof colorChoices)[number];

/** Narrower than this, the live display's rows wrap and garble the terminal: plain lines instead. */
export const minLiveColumns = 20;

export interface DisplayContext {
  progress: Progress;
  color: ColorChoice;
  /** Whether stdout is a terminal, and its width when it is (0 on a pty nobody sized). */
  isTTY: boolean;
  columns: number | undefined;
  env: Readonly<Record<string, string | undefined>>;
  /** Whether the run is a build (-n, --explain and -q print plain lines), and not -v or a terminal task. */
  liveAllowed: boolean;
}

export interface Display {
  live: boolean;
  colour: boolean;
}

export function chooseDisplay(context: DisplayContext): Display {
  const { env } = context;
  const dumb = env.TERM === 'dumb';
  let live: boolean;
  if (!context.liveAllowed) live = false;
  // Asked for: the user's choice, even into a pipe (listr2 then prints its own simple lines).
  else if (context.progress === 'live') live = true;
  else if (context.progress === 'plain') live = false;
  else {
    const wide = context.columns !== undefined && context.columns >= minLiveColumns;
    live = context.isTTY && wide && !dumb && !underCI(env.CI);
  }
  let colour: boolean;
  if (context.color === 'always') colour = true;
  else if (context.color === 'never') colour = false;
  // https://no-color.org: NO_COLOR set and not empty means no colour, whatever else says.
  else if (env.NO_COLOR !== undefined && env.NO_COLOR !== '') colour = false;
  else colour = context.isTTY && !dumb;
  return { live, colour };
}

/**
 * Whether `CI` says this runs under CI: set to anything but an empty value, `0`, `false`, `no` or
 * `off` (any case). `CI=false` is someone saying "not CI", not a value that happens to be set.
 */
export function underCI(value: string | undefined): boolean {
  return value !== undefined && !['', '0', 'false', 'no', 'off'].includes(value.trim().toLowerCase());
}

const sgr = (open: number, close: number) => (text: string) => `\x1b[${open}m${text}\x1b[${close}m`;

/** The few colours plain lines use; `paint(false)` leaves text as it is. */
export function paint(colour: boolean) {
  const none = (text: string) => text;
  return {
    green: colour ? sgr(32, 39) : none,
    red: colour ? sgr(31, 39) : none,
    yellow: colour ? sgr(33, 39) : none,
    dim: colour ? sgr(2, 22) : none,
    bold: colour ? sgr(1, 22) : none,
  };
}

export type Paint = ReturnType<typeof paint>;
