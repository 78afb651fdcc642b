// A task's `check`, called before its task is decided (by the no-op snapshot or the build's fast
// path), and what it said, kept in the run's CheckBook so that deciding the task later does not
// call it a second time.
import path from 'node:path';
import { statePaths } from '../state/state.ts';
import { makeContext } from '../launch/task-context.ts';
import { TaskLog } from '../launch/task-log.ts';
import type { TaskContext, TaskSpec } from '../taskfile/types.ts';

export interface CalledCheck {
  /** The check's log (`NAME.check.log`), closed once the task is decided. */
  log: TaskLog;
  /** Hands back what the check returned or threw; a promise is already being awaited for errors. */
  outcome: () => unknown;
  /** It answered "up to date" at once (a truthy value, not a promise). */
  upToDate: boolean;
  /** It returned a promise: it may still be running. */
  promised: boolean;
}

/** Whether a check is worth calling before its turn: an `async` one always answers with a promise. */
export function answersAtOnce(check: NonNullable<TaskSpec['check']>): boolean {
  // jiti leaves `async` functions as they are (Node runs them natively), so their constructor says what they are.
  return check.constructor.name !== 'AsyncFunction';
}

/** Where a check runs: the Taskfile's folder, the state folder, and the run's interrupt signal. */
export interface CheckPlace {
  root: string;
  stateDir: string;
  signal: AbortSignal;
}

/** The log (`NAME.check.log`) and context a task's check gets, whoever calls it. */
export function checkSetting(name: string, spec: TaskSpec, place: CheckPlace): { log: TaskLog; context: TaskContext } {
  const log = new TaskLog(path.join(statePaths(place.stateDir).logs, `${name}.check.log`), () => {});
  return { log, context: makeContext({ name, root: place.root, stateDir: place.stateDir, values: spec.values ?? {}, signal: place.signal, log }) };
}

/** Calls a task's check now, in its own setting; `spec.check` must be set. */
export function askCheck(name: string, spec: TaskSpec, place: CheckPlace): CalledCheck {
  const { log, context } = checkSetting(name, spec, place);
  return callCheck(spec.check!, context, log);
}

function callCheck(check: NonNullable<TaskSpec['check']>, context: TaskContext, log: TaskLog): CalledCheck {
  try {
    const value: unknown = check(context);
    if (typeof (value as PromiseLike<unknown> | undefined)?.then === 'function') {
      // Awaited only when the task is decided: a rejection before then must not go unhandled.
      const answer = Promise.resolve(value);
      answer.catch(() => {});
      return { log, outcome: () => answer, upToDate: false, promised: true };
    }
    return { log, outcome: () => value, upToDate: Boolean(value), promised: false };
  } catch (error) {
    return {
      log,
      outcome: () => {
        throw error;
      },
      upToDate: false,
      promised: false,
    };
  }
}

/**
 * The checks one run has asked before their tasks were decided, with what they said. Owned by
 * the run (the snapshot's checks are handed to the build that follows a miss): a check is asked
 * at most once a run.
 */
export class CheckBook {
  readonly #called = new Map<string, CalledCheck>();

  /** Calls a task's check now and keeps its answer; `spec.check` must be set. */
  ask(name: string, spec: TaskSpec, place: CheckPlace): CalledCheck {
    const called = askCheck(name, spec, place);
    this.#called.set(name, called);
    return called;
  }

  get(name: string): CalledCheck | undefined {
    return this.#called.get(name);
  }

  /** The task is decided: its check's log is closed and its answer forgotten. */
  done(name: string): void {
    this.#called.get(name)?.log.close();
    this.#called.delete(name);
  }

  /** A task whose plain check answered with a promise, if any: a snapshot would miss on it every run. */
  promised(): string | undefined {
    for (const [name, called] of this.#called) if (called.promised) return name;
    return undefined;
  }

  /** Closes the logs of checks whose tasks were never decided (a failure stopped the build); closing twice is harmless. */
  closeAll(): void {
    for (const { log } of this.#called.values()) log.close();
  }
}
