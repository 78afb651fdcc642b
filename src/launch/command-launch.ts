// How a command is started, apart from what the runner does around it (log, timeout, errors):
// through the spawn helper (posix_spawn from a small process) or through execa (Node's fork).
import type { CommandUsage } from './usage.ts';

export interface LaunchRequest {
  file: string;
  args: readonly string[];
  cwd: string;
  /** Added to (or, with `undefined`, removed from) the engine's environment. */
  env?: Record<string, string | undefined>;
  input?: string | Uint8Array;
  /** The command gets the engine's standard input, output and error, in the engine's process group (ExecOptions.stdio). */
  inherit?: boolean;
  /** Each piece of output as it arrives, decoded as UTF-8. */
  onOutput(text: string): void;
}

export type LaunchOutcome =
  /** `usage`: the command's rusage, where the launcher can know it (the spawn helper's wait4). */
  | { started: true; exitCode: number | null; signal: NodeJS.Signals | null; stdout: string; stderr: string; usage?: CommandUsage }
  /** `helperFailed`: the spawn helper broke before starting it, so it may be started another way. */
  | { started: false; message: string; helperFailed?: boolean };

export interface LaunchedCommand {
  /**
   * Signals the command's process group (it has one of its own); a no-op once it has exited. A
   * command given the terminal shares the engine's group: only its own process is signalled.
   */
  signalGroup(signal: NodeJS.Signals): void;
  readonly finished: Promise<LaunchOutcome>;
}

export type Launcher = (request: LaunchRequest) => LaunchedCommand;

let base: Record<string, string> | undefined;

/**
 * The engine's environment as it was when first asked for (before the first check or run gets its context),
 * which every command gets with its own changes. Read once: copying process.env cost 0.07-0.14
 * ms a command.
 */
export function baseEnvironment(): Record<string, string> {
  return (base ??= { ...process.env } as Record<string, string>);
}

/** Why a command's environment changes cannot apply (a name empty or holding '='), if they cannot. */
export function environmentProblem(changes: Record<string, string | undefined> | undefined): string | undefined {
  const bad = Object.keys(changes ?? {}).find((name) => name === '' || name.includes('='));
  return bad === undefined ? undefined : `the environment variable name ${JSON.stringify(bad)} is empty or holds '='`;
}

/** The environment a command gets: the base one, with the task's changes. */
export function commandEnvironment(changes: Record<string, string | undefined> | undefined): Record<string, string> {
  const env = { ...baseEnvironment() };
  for (const [name, value] of Object.entries(changes ?? {})) {
    if (value === undefined) delete env[name];
    else env[name] = value;
  }
  return env;
}

export function signalProcessGroup(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pid, signal);
  } catch {
    // The group is already gone.
  }
}
