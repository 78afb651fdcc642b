// A task's `check`, called before its task is decided (by the no-op snapshot or the build's fast
// path), and what it said, kept in the run's CheckBook so that deciding the task later does not
// call it a second time.
import path from 'node:path';
import { statePaths } from '../state/state.ts';
import { makeContext } from '../launch/task-context.ts';
import { TaskLog } from '../launch/task-log.ts';
import { untilAborted } from '../launch/timeout-signal.ts';
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

  /**
   * Asks these checks in their order, as the no-op snapshot does, each once. One that answers at
   * once and says no ends the asking. One that answers with a promise (an `async` check waiting
   * for a process) is awaited together with the others, at most `jobs` at a time, so that slow
   * probes overlap. Resolves with a task whose check does not say up to date (a rejection counts
   * as no: the build's decision then reports it, from the answer kept here), or undefined when
   * every check says up to date; with the task being asked or awaited when the signal aborts.
   */
  async askAll(checks: ReadonlyArray<{ name: string; spec: TaskSpec }>, place: CheckPlace, jobs: number): Promise<string | undefined> {
    const answers: Array<{ name: string; upToDate: Promise<boolean> }> = [];
    const running = new Set<Promise<boolean>>();
    let asking = checks[0]?.name;
    try {
      for (const { name, spec } of checks) {
        asking = name;
        if (place.signal.aborted) return name;
        const called = this.ask(name, spec, place);
        if (!called.promised) {
          if (!called.upToDate) return name;
          continue;
        }
        const upToDate = (called.outcome() as Promise<unknown>).then(Boolean, () => false);
        answers.push({ name, upToDate });
        running.add(upToDate);
        void upToDate.then(() => running.delete(upToDate));
        while (running.size >= Math.max(1, jobs)) await untilAborted(Promise.race(running), place.signal);
      }
      for (const { name, upToDate } of answers) {
        asking = name;
        if (!(await untilAborted(upToDate, place.signal))) return name;
      }
    } catch (error) {
      // Interrupted while waiting: the task whose answer was awaited is not known up to date.
      if (place.signal.aborted) return asking;
      throw error;
    }
    return undefined;
  }

  /** Closes the logs of checks whose tasks were never decided (a failure stopped the build); closing twice is harmless. */
  closeAll(): void {
    for (const { log } of this.#called.values()) log.close();
  }
}
