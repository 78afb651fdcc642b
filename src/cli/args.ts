// The command line: `task [options] [TARGET...] [NAME=VALUE...]`.
import { UsageError } from '../base/errors.ts';
import { didYouMean } from '../base/suggest.ts';
import { colorChoices, progressChoices, type ColorChoice, type Progress } from '../report/display.ts';

/** What `--graph=FORMAT` writes. */
export const graphFormats = ['dot', 'svg', 'png'] as const;
export type GraphFormat = (typeof graphFormats)[number];

export interface CliArgs {
  list: boolean;
  dryRun: boolean;
  explain: boolean;
  question: boolean;
  force: boolean;
  jobs: number | undefined;
  keepGoing: boolean;
  graph: boolean;
  /** `--compdb`: print compile_commands.json for the targets' compile commands (every task's, if none named). */
  compdb: boolean;
  /** `--graph=FORMAT`: DOT text (the default), or a picture Graphviz lays out (svg, png). */
  graphFormat: GraphFormat;
  clean: boolean;
  verbose: boolean;
  help: boolean;
  version: boolean;
  init: boolean;
  /** `--completion SHELL`: print that shell's completion script. */
  completion: string | undefined;
  /** `--complete-targets` (hidden, for the completion scripts): target and parameter names. */
  completeTargets: boolean;
  /** `--progress`: the live display, plain lines, or `auto` (live on a terminal, unless CI, TERM=dumb or a tiny terminal). */
  progress: Progress;
  /** `--color`: colour codes always, never, or `auto` (on a terminal, unless NO_COLOR or TERM=dumb). */
  color: ColorChoice;
  /** `--json`: one JSON event per line on stdout, for CI systems and editors. */
  json: boolean;
  /** `--cache-url URL`: the remote cache (Bazel's HTTP cache protocol); else TASK_CACHE_URL. */
  cacheUrl: string | undefined;
  /** `--cache-mode`: readwrite, read (the remote is only read), off (no cache at all); else TASK_CACHE_MODE. */
  cacheMode: CacheModeChoice | undefined;
  /** `--cache-dir DIR`: the local cache; else TASK_CACHE_DIR, else XDG_CACHE_HOME/task. */
  cacheDir: string | undefined;
  /** `--watch`: build, then build again whenever an input of the targets or the Taskfile changes. */
  watch: boolean;
  /** `--trace FILE`: write the build as Chrome trace-event JSON (Perfetto opens it). */
  trace: string | undefined;
  directory: string | undefined;
  taskfile: string | undefined;
  targets: string[];
  overrides: Map<string, string>;
}

const flags = {
  '-l': 'list', '--list': 'list',
  '-n': 'dryRun', '--dry-run': 'dryRun',
  '--explain': 'explain',
  '-q': 'question', '--question': 'question',
  '-f': 'force', '--force': 'force',
  '-k': 'keepGoing', '--keep-going': 'keepGoing',
  '--graph': 'graph',
  '--compdb': 'compdb',
  '--clean': 'clean',
  '-v': 'verbose', '--verbose': 'verbose',
  '-h': 'help', '--help': 'help',
  '--version': 'version',
  '--init': 'init',
  '--complete-targets': 'completeTargets',
  '--json': 'json',
  '--watch': 'watch',
} as const;

const withValue = ['-j', '--jobs', '-C', '--taskfile', '--completion', '--progress', '--color', '--cache-url', '--cache-mode', '--cache-dir', '--trace'] as const;

export const cacheModeChoices = ['readwrite', 'read', 'off'] as const;
export type CacheModeChoice = (typeof cacheModeChoices)[number];


/** The shells `--completion` writes a script for. */
export const shells = ['bash', 'zsh', 'fish'] as const;

/** The options a user may type, for completion: every one but the completion scripts' own. */
export const optionNames: readonly string[] = [...Object.keys(flags), ...withValue].filter((o) => o !== '--complete-targets');

export const usage = `usage: task [options] [TARGET...] [NAME=VALUE...]

  -l, --list          list tasks (those TARGETs need, if given) and parameters
  -n, --dry-run       print what would run, in order, and why; run nothing
      --explain       for every task of the targets: up to date, or why not
  -q, --question      run nothing; exit 0 if up to date, 1 if there is work
  -f, --force         rerun the named targets even if up to date
  -j, --jobs N        run at most N tasks at once (default: number of CPUs; 0: no limit)
  -k, --keep-going    after a failure, go on with what does not depend on it
      --graph[=dot|svg|png]  print the targets' graph (DOT by default; svg and png
                      laid out by a built-in Graphviz, png only into a file: > FILE);
                      tasks that would run are orange, up-to-date ones green
      --compdb        print compile_commands.json for the declared commands that
                      compile (-c), of the targets (all tasks, if none named)
      --clean         tear down, then remove the targets' recorded outputs and records
                      (all, if none named); with -n, only print what it would do
  -C DIR              run in DIR, with DIR/Taskfile.ts (default: the nearest
                      Taskfile.ts in the current folder or above)
      --taskfile FILE use FILE as the Taskfile
      --init          write a starter Taskfile.ts in the current folder (or -C DIR)
      --completion SHELL  print a completion script for bash, zsh or fish
  -v, --verbose       print commands' output and up-to-date tasks
      --progress=auto|plain|live  the live display or plain lines (auto: live on a
                      terminal, unless CI is set, TERM=dumb or it is under 20 columns)
      --color=auto|always|never   colour codes (auto: on a terminal, unless NO_COLOR
                      is set or TERM=dumb)
      --json          one JSON event per line on stdout (plan, started, finished, summary)
      --cache-url URL the remote cache (Bazel's HTTP cache: URL/ac/, URL/cas/); also TASK_CACHE_URL
      --cache-mode=readwrite|read|off  write to the remote cache, only read it, or use no
                      cache at all (default readwrite; also TASK_CACHE_MODE)
      --cache-dir DIR the local cache (default TASK_CACHE_DIR, else $XDG_CACHE_HOME/task)
      --watch         build, then again each time an input of the targets or the Taskfile
                      changes, until Ctrl-C
      --trace FILE    write the build's timings as Chrome trace-event JSON (open it in
                      Perfetto or chrome://tracing)
  NAME=VALUE          override a parameter the Taskfile declares
`;

/**
 * Options that make no sense with `--clean`: the modes that promise to change nothing (`--clean -n`
 * is the way to see what it would remove), and those that are about building.
 */
const notWithClean: Partial<Record<keyof CliArgs, string>> = {
  question: 'it promises to change nothing; --clean -n shows what --clean would remove',
  explain: 'it promises to change nothing; --clean -n shows what --clean would remove',
  graph: 'it promises to change nothing; --clean -n shows what --clean would remove',
  compdb: 'it promises to change nothing; --clean -n shows what --clean would remove',
  list: 'it promises to change nothing; --clean -n shows what --clean would remove',
  force: 'it reruns tasks, and --clean runs none',
  keepGoing: 'a clean step that fails stops --clean',
};

/** What `--trace` refuses: modes that run no task have nothing to trace. */
const notWithTrace: Partial<Record<keyof CliArgs, string>> = {
  dryRun: 'it runs nothing, so there is nothing to trace',
  question: 'it runs nothing, so there is nothing to trace',
  explain: 'it runs nothing, so there is nothing to trace',
  graph: 'it runs nothing, so there is nothing to trace',
  compdb: 'it runs nothing, so there is nothing to trace',
  list: 'it runs nothing, so there is nothing to trace',
  clean: 'it runs no task, so there is nothing to trace',
  init: 'it runs nothing, so there is nothing to trace',
  completion: 'it runs nothing, so there is nothing to trace',
  completeTargets: 'it runs nothing, so there is nothing to trace',
};

/** What `--watch` refuses: it builds, again and again, so modes that build nothing make no sense with it. */
const notWithWatch: Partial<Record<keyof CliArgs, string>> = {
  dryRun: 'it builds nothing, so there is nothing to build again',
  question: 'it builds nothing, so there is nothing to build again',
  explain: 'it builds nothing, so there is nothing to build again',
  graph: 'it builds nothing, so there is nothing to build again',
  list: 'it builds nothing, so there is nothing to build again',
  clean: 'it removes what --watch would build',
  init: 'it builds nothing, so there is nothing to build again',
  completion: 'it builds nothing, so there is nothing to build again',
  completeTargets: 'it builds nothing, so there is nothing to build again',
};

export function parseArgs(argv: readonly string[]): CliArgs {
  const args: CliArgs = {
    list: false, dryRun: false, explain: false, question: false, force: false, jobs: undefined,
    keepGoing: false, graph: false, graphFormat: 'dot', compdb: false, clean: false, verbose: false, help: false, version: false, init: false,
    completion: undefined, completeTargets: false, progress: 'auto', color: 'auto', json: false, watch: false, trace: undefined, cacheUrl: undefined, cacheMode: undefined, cacheDir: undefined, directory: undefined, taskfile: undefined, targets: [], overrides: new Map(),
  };
  // How each flag was spelled, to name it in a refusal.
  const spelled = new Map<keyof CliArgs, string>();
  let onlyOperands = false;
  for (let i = 0; i < argv.length; i++) {
    let arg = argv[i]!;
    if (onlyOperands || !arg.startsWith('-') || arg === '-') {
      const eq = arg.indexOf('=');
      if (eq > 0) setOverride(args.overrides, arg.slice(0, eq), arg.slice(eq + 1));
      else args.targets.push(arg);
      continue;
    }
    if (arg === '--') {
      onlyOperands = true;
      continue;
    }
    let inlineValue: string | undefined;
    if (arg.startsWith('--') && arg.includes('=')) {
      inlineValue = arg.slice(arg.indexOf('=') + 1);
      arg = arg.slice(0, arg.indexOf('='));
    } else if (/^-[jC]./.test(arg)) {
      inlineValue = arg.slice(2);
      arg = arg.slice(0, 2);
    }
    if ((withValue as readonly string[]).includes(arg)) {
      const value = inlineValue ?? argv[++i];
      if (value === undefined) throw new UsageError(`option ${arg} needs a value`);
      setValue(args, arg, value);
      continue;
    }
    if (arg === '--graph' && inlineValue !== undefined) {
      // A value only after '=': `--graph chroot` graphs the target chroot.
      args.graphFormat = oneOf(arg, inlineValue, graphFormats);
      setFlag(args, spelled, arg);
      continue;
    }
    if (arg in flags) {
      // `--force=1` is not a way to say yes: a flag takes no value.
      if (inlineValue !== undefined) throw new UsageError(`option ${arg} takes no value (got ${arg}=${inlineValue})`);
      setFlag(args, spelled, arg);
      continue;
    }
    // Grouped short flags, as getopt reads them, the last perhaps taking a value: -nk, -kj2, -kj 2.
    const grouped = /^-([a-zA-Z]+?)([jC])(.*)$/.exec(arg);
    if (grouped && [...grouped[1]!].every((c) => `-${c}` in flags)) {
      for (const c of grouped[1]!) setFlag(args, spelled, `-${c}`);
      const value = grouped[3] || argv[++i];
      if (value === undefined) throw new UsageError(`option -${grouped[2]} needs a value`);
      setValue(args, `-${grouped[2]}`, value);
      continue;
    }
    if (/^-[a-zA-Z]{2,}$/.test(arg) && [...arg.slice(1)].every((c) => `-${c}` in flags)) {
      for (const c of arg.slice(1)) setFlag(args, spelled, `-${c}`);
      continue;
    }
    throw new UsageError(`unknown option ${arg}${didYouMean(arg, [...Object.keys(flags), ...withValue])}`);
  }
  if (args.init && (args.targets.length > 0 || args.overrides.size > 0 || args.taskfile !== undefined)) {
    throw new UsageError('--init takes no targets, parameters or --taskfile: it writes Taskfile.ts in the current folder (or -C DIR)');
  }
  // Each of these is what the run does instead of a build: two at once would leave one unsaid.
  const modes = (['list', 'graph', 'compdb', 'explain', 'question'] as const).filter((key) => args[key]);
  if (modes.length > 1) throw new UsageError(`${spelled.get(modes[0]!)} cannot be combined with ${spelled.get(modes[1]!)}: each is a run of its own`);
  if (args.json) {
    if (args.progress === 'live') throw new UsageError('--json cannot be combined with --progress=live: --json writes JSON lines to stdout, and the live display draws there too');
    const other = (['list', 'graph', 'compdb', 'clean', 'init', 'completion', 'completeTargets'] as const).find((key) => args[key] !== false && args[key] !== undefined);
    if (other !== undefined) throw new UsageError(`--json cannot be combined with ${spelled.get(other) ?? '--completion'}: --json reports a build, -n, --explain or -q`);
  }
  if (args.watch) {
    for (const [key, why] of Object.entries(notWithWatch) as Array<[keyof CliArgs, string]>) {
      if (args[key] !== false && args[key] !== undefined) throw new UsageError(`--watch cannot be combined with ${spelled.get(key) ?? '--completion'}: ${why}`);
    }
  }
  if (args.trace !== undefined) {
    for (const [key, why] of Object.entries(notWithTrace) as Array<[keyof CliArgs, string]>) {
      if (args[key] !== false && args[key] !== undefined) throw new UsageError(`--trace cannot be combined with ${spelled.get(key) ?? '--completion'}: ${why}`);
    }
  }
  if (args.clean) {
    for (const [key, why] of Object.entries(notWithClean) as Array<[keyof CliArgs, string]>) {
      if (args[key]) throw new UsageError(`--clean cannot be combined with ${spelled.get(key)}: ${why}`);
    }
  }
  return args;
}

function setFlag(args: CliArgs, spelled: Map<keyof CliArgs, string>, flag: string): void {
  const key = flags[flag as keyof typeof flags];
  args[key] = true;
  if (!spelled.has(key)) spelled.set(key, flag);
}

/** A parameter given twice with two values is a mistake, not a choice of the last one. */
function setOverride(overrides: Map<string, string>, name: string, value: string): void {
  const earlier = overrides.get(name);
  if (earlier !== undefined && earlier !== value) {
    throw new UsageError(`parameter ${name} is given twice, as ${JSON.stringify(earlier)} and ${JSON.stringify(value)}; give it once`);
  }
  overrides.set(name, value);
}

function setValue(args: CliArgs, option: string, value: string): void {
  if (option === '-j' || option === '--jobs') {
    const jobs = Number(value);
    if (!/^[0-9]+$/.test(value) || !Number.isSafeInteger(jobs)) throw new UsageError(`option ${option}: '${value}' is not a whole number (0 means no limit)`);
    // As ninja's -j0: every task that is ready starts at once.
    args.jobs = jobs === 0 ? Infinity : jobs;
  } else if (option === '--completion') {
    if (!(shells as readonly string[]).includes(value)) throw new UsageError(`--completion: no script for shell '${value}'; one of ${shells.join(', ')}`);
    args.completion = value;
  } else if (option === '--progress') {
    args.progress = oneOf(option, value, progressChoices);
  } else if (option === '--color') {
    args.color = oneOf(option, value, colorChoices);
  } else if (option === '--cache-mode') {
    args.cacheMode = oneOf(option, value, cacheModeChoices);
  } else if (option === '--cache-url') {
    args.cacheUrl = value;
  } else if (option === '--trace') {
    if (value === '') throw new UsageError('option --trace needs a file name');
    args.trace = value;
  } else if (option === '--cache-dir') {
    args.cacheDir = value;
  } else if (option === '-C') {
    args.directory = value;
  } else {
    args.taskfile = value;
  }
}

function oneOf<T extends string>(option: string, value: string, choices: readonly T[]): T {
  if (!(choices as readonly string[]).includes(value)) throw new UsageError(`option ${option}: '${value}' is not one of ${choices.join(', ')}`);
  return value as T;
}
