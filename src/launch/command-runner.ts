// Runs one command for a task: logging, timeout, interrupt and the errors a task sees. How the
// process is started is a launcher's job: the spawn helper when it is built, else execa. Each
// command gets a process group of its own so that an interrupt reaches its children too.
import { optimizeOnlyHotCode } from './compiler-budget.ts';
import { CommandFailed, Interrupted } from '../base/errors.ts';
import { shellQuote } from '../base/format.ts';
import type { Launcher, LaunchedCommand, LaunchOutcome } from './command-launch.ts';
import { SpawnHelper, usableHelper } from './spawn-helper/client.ts';
import { LineSplitter, type TaskLog } from './task-log.ts';
import { timeoutSignal } from './timeout-signal.ts';
import type { UsageTally } from './usage.ts';
import type { ExecOptions, ExecResult } from '../taskfile/types.ts';

/** Time between SIGTERM and SIGKILL when a command is stopped. */
export const killGraceMs = 3000;

/** Commands now running, for the second Ctrl-C and so that an interrupted build can wait for them. */
const live = new Map<LaunchedCommand, Promise<unknown>>();

/**
 * Resolves when every running command has exited (after SIGTERM, or SIGKILL past the grace
 * period) and the spawn helper, if one ran, has exited and been reaped. Reaped by the engine, the
 * helper's CPU time and that of every command it reaped reach the engine's own rusage, so that
 * `time task` counts them; a helper left to exit after the engine would be counted by no one.
 * A later command starts a new helper.
 */
export async function commandsSettled(): Promise<void> {
  await Promise.allSettled([...live.values()]);
  if (helper) {
    const running = helper;
    helper = undefined;
    await running.exited();
  }
}

/** SIGKILL every running command's process group, for an exit that cannot wait. */
export function killAllCommandsNow(): void {
  for (const command of live.keys()) command.signalGroup('SIGKILL');
}

let helper: SpawnHelper | undefined | null;
let execaLauncher: Promise<Launcher> | undefined;

/** The helper for commands without standard input or the terminal, while it works; execa (loaded on demand) otherwise. */
async function launcherFor(options: ExecOptions): Promise<Launcher> {
  if (helper === undefined) {
    optimizeOnlyHotCode();
    const binary = usableHelper();
    helper = binary ? new SpawnHelper(binary) : null;
  }
  if (helper && helper.broken === undefined && options.input === undefined && options.stdio !== 'inherit') {
    const running = helper;
    return (request) => running.launch(request);
  }
  return (execaLauncher ??= import('./execa-launch.ts').then((module) => module.launchWithExeca));
}

/** How a command is shown: its words, quoted where a shell would need it. */
export function commandLine(file: string, args: readonly string[]): string {
  return shellQuote([file, ...args]);
}

export async function runCommand(
  file: string,
  args: readonly string[],
  options: ExecOptions & { cwd: string; signal: AbortSignal; log: TaskLog; usage?: UsageTally },
): Promise<ExecResult> {
  const shown = commandLine(file, args);
  if (!options.quiet) options.log.command(`$ ${shown}`);
  const timeout = timeoutSignal(options.signal, options.timeout, "exec's timeout option");
  try {
    return await runChild(file, args, shown, { ...options, signal: timeout.signal });
  } finally {
    timeout.dispose();
  }
}

async function runChild(
  file: string,
  args: readonly string[],
  shown: string,
  options: ExecOptions & { cwd: string; signal: AbortSignal; log: TaskLog; usage?: UsageTally },
): Promise<ExecResult> {
  const { log, signal } = options;
  if (signal.aborted) throw abortError(signal, shown, log);
  const lines = new LineSplitter((line) => log.line(line), (partial) => log.progress(partial));
  if (options.stdio === 'inherit' && options.input !== undefined) {
    throw new CommandFailed(`a command given the terminal (stdio 'inherit') takes no input: ${shown}`, shown, log.tail(), log.path);
  }
  const request = {
    file, args, cwd: options.cwd, env: options.env, input: options.input, inherit: options.stdio === 'inherit',
    onOutput: options.quiet ? () => {} : (text: string) => lines.push(text),
  };
  let command: LaunchedCommand | undefined;
  let outcome: LaunchOutcome;
  let killTimer: NodeJS.Timeout | undefined;
  const stop = () => {
    command?.signalGroup('SIGTERM');
    killTimer = setTimeout(() => command?.signalGroup('SIGKILL'), killGraceMs);
    killTimer.unref();
  };
  signal.addEventListener('abort', stop, { once: true });
  // At most twice: a command the spawn helper never started, because it broke, goes through execa.
  do {
    const launch = await launcherFor(options);
    if (signal.aborted) {
      signal.removeEventListener('abort', stop);
      throw abortError(signal, shown, log);
    }
    command = launch(request);
    live.set(command, command.finished);
    outcome = await command.finished;
    live.delete(command);
  } while (!outcome.started && outcome.helperFailed && !signal.aborted);
  lines.flush();
  if (outcome.started) options.usage?.add(outcome.usage);
  signal.removeEventListener('abort', stop);
  // A command's own background children would be orphans once the build is interrupted.
  if (signal.aborted) command.signalGroup('SIGKILL');
  if (killTimer) clearTimeout(killTimer);
  if (signal.aborted) throw abortError(signal, shown, log);
  if (!outcome.started) throw new CommandFailed(`command could not start: ${outcome.message}: ${shown}`, shown, log.tail(), log.path);
  if (outcome.exitCode === null) {
    const why = `command was killed by ${outcome.signal ?? 'a signal'}: ${shown}`;
    if (options.reject !== false) throw new CommandFailed(why, shown, log.tail(), log.path);
    return { stdout: outcome.stdout, stderr: outcome.stderr, exitCode: -1, ...(outcome.signal ? { signal: outcome.signal } : {}) };
  }
  if (outcome.exitCode !== 0 && options.reject !== false) {
    throw new CommandFailed(`command exited with code ${outcome.exitCode}: ${shown}`, shown, log.tail(), log.path, outcome.exitCode);
  }
  return { stdout: outcome.stdout, stderr: outcome.stderr, exitCode: outcome.exitCode };
}

function abortError(signal: AbortSignal, shown: string, log: TaskLog): Error {
  const reason = signal.reason as Error | undefined;
  if (reason?.name === 'TimeoutError') {
    // The reason names the limit: exec's timeout option, or the task's (which the build reports in its own words).
    return new CommandFailed(`command ${reason.message}: ${shown}`, shown, log.tail(), log.path);
  }
  return new Interrupted('interrupted');
}
