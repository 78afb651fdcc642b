// What the engine tells reporters. The engine emits; reporters render (lage's split).
import type { TaskError } from '../base/errors.ts';
import type { Reason } from '../decide/freshness.ts';

export type BuildEvent =
  | { type: 'plan'; tasks: readonly string[] }
  /** `terminal`: a task in the console pool (`pool: 'console'`), whose output is for the user (printed as it comes). */
  | { type: 'start'; task: string; reasons: Reason[]; terminal?: boolean }
  | { type: 'output'; task: string; line: string }
  | { type: 'up-to-date'; task: string }
  | { type: 'would-run'; task: string; reasons: Reason[]; /** Its declared commands, shell-quoted. */ commands?: string[] }
  | { type: 'done'; task: string; durationMs: number }
  | { type: 'failed'; task: string; error: Error | TaskError; durationMs: number }
  | { type: 'skipped'; task: string; dependency: string }
  | { type: 'interrupted'; task: string }
  | { type: 'warning'; message: string };

export interface Reporter {
  emit(event: BuildEvent): void;
  /** Called once at the end with the summary; resolves when everything is printed. */
  finish(summary: BuildSummary): Promise<void>;
}

/** The outcome of a build, by task. */
export interface BuildSummary {
  ran: string[];
  upToDate: string[];
  wouldRun: string[];
  failed: Array<{ task: string; error: Error }>;
  skipped: Array<{ task: string; dependency: string }>;
  /** Not started because the build stopped after a failure or an interrupt. */
  notStarted: string[];
  interrupted: string[];
  wallMs: number;
  /** The process's exit status, when the CLI knows it before the summary is printed. */
  exitStatus?: number;
}
