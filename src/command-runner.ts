// Runs one command for a task: the only file that imports execa. Each command gets a process
// group of its own so that an interrupt reaches its children too (no orphans).
import { execa } from 'execa';
import { CommandFailed, Interrupted } from './errors.ts';
import { LineSplitter, type TaskLog } from './task-log.ts';
import { timeoutSignal } from './timeout-signal.ts';
import type { ExecOptions, ExecResult } from './types.ts';

/** Time between SIGTERM and SIGKILL when a command is stopped. */
export const killGraceMs = 3000;

/** Process groups of commands now running, for the second Ctrl-C. */
const liveGroups = new Set<number>();
/** Commands now running, so that an interrupted build can wait until each is gone. */
const liveCommands = new Set<Promise<unknown>>();

/** Resolves when every running command has exited (after SIGTERM, or SIGKILL past the grace period). */
export async function commandsSettled(): Promise<void> {
  await Promise.allSettled([...liveCommands]);
}

function signalGroup(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pid, signal);
  } catch {
    // The group is already gone.
  }
}

/** SIGKILL every running command's process group, for an exit that cannot wait. */
export function killAllCommandsNow(): void {
  for (const pid of liveGroups) signalGroup(pid, 'SIGKILL');
}

/** How a command is shown: its words, quoted where a shell would need it. */
export function commandLine(file: string, args: readonly string[]): string {
  return [file, ...args].map((word) => (/^[\w@%+=:,./-]+$/.test(word) ? word : `'${word.replaceAll("'", `'\\''`)}'`)).join(' ');
}

export async function runCommand(
  file: string,
  args: readonly string[],
  options: ExecOptions & { cwd: string; signal: AbortSignal; log: TaskLog },
): Promise<ExecResult> {
  const shown = commandLine(file, args);
  if (!options.quiet) options.log.line(`$ ${shown}`);
  const timeout = timeoutSignal(options.signal, options.timeout);
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
  options: ExecOptions & { cwd: string; signal: AbortSignal; log: TaskLog },
): Promise<ExecResult> {
  const { log, signal } = options;
  if (signal.aborted) throw abortError(signal, shown, log);
  const child = execa(file, args, {
    cwd: options.cwd,
    env: options.env,
    input: options.input,
    stdin: options.input === undefined ? 'ignore' : 'pipe',
    reject: false,
    detached: true,
    stripFinalNewline: false,
    maxBuffer: 256 * 1024 * 1024,
  });
  const pid = child.pid;
  let killTimer: NodeJS.Timeout | undefined;
  const stop = () => {
    if (pid === undefined) return;
    signalGroup(pid, 'SIGTERM');
    killTimer = setTimeout(() => signalGroup(pid, 'SIGKILL'), killGraceMs);
    killTimer.unref();
  };
  if (pid !== undefined) liveGroups.add(pid);
  signal.addEventListener('abort', stop, { once: true });
  const toLog = (line: string) => (options.quiet ? undefined : log.line(line));
  const outLines = new LineSplitter(toLog);
  const errLines = new LineSplitter(toLog);
  child.stdout?.setEncoding('utf8').on('data', (chunk: string) => outLines.push(chunk));
  child.stderr?.setEncoding('utf8').on('data', (chunk: string) => errLines.push(chunk));
  liveCommands.add(child);
  const result = await child;
  liveCommands.delete(child);
  outLines.flush();
  errLines.flush();
  signal.removeEventListener('abort', stop);
  if (pid !== undefined) {
    liveGroups.delete(pid);
    // A command's own background children would be orphans once the build is interrupted.
    if (signal.aborted) signalGroup(pid, 'SIGKILL');
  }
  if (killTimer) clearTimeout(killTimer);
  if (signal.aborted) throw abortError(signal, shown, log);
  const stdout = String(result.stdout ?? '');
  const stderr = String(result.stderr ?? '');
  const exitCode = typeof result.exitCode === 'number' ? result.exitCode : -1;
  if (result.failed && exitCode === -1) {
    // It never started (no such program) or died by a signal.
    const why = result.signal ? `was killed by ${result.signal}` : `could not start: ${result.cause instanceof Error ? result.cause.message : result.shortMessage}`;
    if (options.reject !== false || !result.signal) throw new CommandFailed(`command ${why}: ${shown}`, shown, log.tail(), log.path);
  }
  if (exitCode !== 0 && options.reject !== false) {
    throw new CommandFailed(`command exited with code ${exitCode}: ${shown}`, shown, log.tail(), log.path);
  }
  return { stdout, stderr, exitCode };
}

function abortError(signal: AbortSignal, shown: string, log: TaskLog): Error {
  const reason = signal.reason as Error | undefined;
  if (reason?.name === 'TimeoutError') {
    return new CommandFailed(`command timed out: ${shown}`, shown, log.tail(), log.path);
  }
  return new Interrupted('interrupted');
}
