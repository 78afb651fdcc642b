// What the state store keeps per task: the parts of its fingerprint and what it produced.
import type { Value } from '../taskfile/types.ts';

/** The parts a fingerprint is made of, kept so `--explain` can say which one changed. */
export interface FingerprintParts {
  name: string;
  runSource: string;
  checkSource: string;
  /** The declared commands' JSON ('' or absent for none). */
  command?: string;
  values: Record<string, Value>;
  /**
   * Input path (relative to the root) -> content digest. Maps, not objects: objects keyed by
   * thousands of distinct paths cost V8 a hidden class each, and a no-op build makes one a task.
   */
  inputs: Map<string, string>;
  outputs: string[];
  /**
   * Inputs found by the last run (its depfile, `ctx.discovered`): path (relative to the root where
   * inside it) -> content digest, '' for a file that did not exist. Absent when there are none.
   */
  discovered?: Map<string, string>;
  /** Dependency name -> its result. */
  deps: Map<string, string>;
}

/** A recorded output: a file by size, mtime and digest; a folder by existence only. */
export type OutputRecord =
  | { kind: 'file'; size: number; mtimeMs: number; digest: string }
  | { kind: 'dir' };

/** What a task's last successful run was made of, and what it produced. */
export interface TaskRecord {
  /** Kept so that `--explain` can name what changed, with old and new values. */
  parts: FingerprintParts;
  /** Absolute output path -> what was recorded. */
  outputs: Map<string, OutputRecord>;
  /** What dependents see: digest of the file outputs, or the identity of this run. */
  result: string;
  /**
   * The command lines the last run started (declared commands and `ctx.exec` calls), shell-quoted,
   * in order. Not a part of the fingerprint: a `run` function's lines are known only by running
   * it. Kept so that a run whose lines changed while nothing declared did can say so.
   */
  ranCommands?: string[];
  /** When the run finished, ms since the epoch, and how long it took. */
  finishedAt: number;
  durationMs: number;
}
