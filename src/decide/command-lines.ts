// The command lines a `run` function started, compared with its last run's. A `run` is opaque:
// what it will start is known only by running it, so a change in data it reads from outside (a
// variable the Taskfile computed, a param it closes over) cannot make it run. What can be said,
// once it runs for another reason, is that its lines changed although nothing declared did.
import type { FingerprintParts, TaskRecord } from '../state/record.ts';
import { diffParts } from './freshness.ts';

/** The first line that differs, old and new ('(none)' where one list is shorter). */
export interface LineChange {
  old: string;
  now: string;
}

/**
 * A line this run started that its last run did not (and one of the last run's it did not), for a
 * run whose every declared part (run and check source, command, values, inputs, discovered
 * inputs, dependency results) is as last time: then nothing declared explains the change, and it
 * came from data the run reads from outside. Lines are compared as sets, so that a polling loop
 * that asked twice this time and once last time is no change. Undefined when there is none, when
 * the last run recorded no lines, and for a task with a `check` (it may act on live state that
 * the fingerprint does not see, such as a process id).
 */
export function unexplainedLineChange(previous: TaskRecord | undefined, parts: FingerprintParts, lines: readonly string[], hasCheck: boolean): LineChange | undefined {
  const before = previous?.ranCommands;
  if (!before || hasCheck) return undefined;
  const old = previous.parts;
  // The same comparison the decision makes, so that the two never disagree on "declared".
  const declaredSame = diffParts(old, parts, new Map()).length === 0;
  if (!declaredSame) return undefined;
  const was = new Set(before);
  const is = new Set(lines);
  const now = lines.find((line) => !was.has(line));
  const gone = before.find((line) => !is.has(line));
  if (now === undefined && gone === undefined) return undefined;
  return { old: gone ?? '(none)', now: now ?? '(none)' };
}
