// Pools, as ninja's: `pool(name, depth)` names a limit on how many of its tasks run at once,
// whatever -j is (a link step, a memory-heavy job). 'console' is the predefined pool of depth 1
// whose task gets the terminal.
import { TaskfileError } from '../base/errors.ts';

/** What `pool()` returns: give it as a task's `pool`. */
export interface Pool {
  readonly name: string;
  /** At most this many tasks of the pool run at once. */
  readonly depth: number;
}

// Symbol.for: a Taskfile that imports src/index.ts by another path makes pools the CLI still knows.
const brand = Symbol.for('execd-builder.pool');
const namePattern = /^[A-Za-z0-9_][A-Za-z0-9_.:@+-]*$/;

/** Declares a pool: tasks given it as their `pool` run at most `depth` at once. */
export function pool(name: string, depth: number): Pool {
  const where = callerPlace();
  const fail = (problem: string) => new TaskfileError(`pool ${JSON.stringify(name)}${where ? ` (at ${where})` : ''}: ${problem}`);
  if (typeof name !== 'string' || !namePattern.test(name)) throw fail('the name is not valid: use letters, digits and _ . : @ + -');
  if (name === 'console') throw fail("'console' is predefined (depth 1, the task gets the terminal): give pool: 'console'");
  if (typeof depth !== 'number' || !Number.isInteger(depth) || depth < 1) throw fail(`depth must be a whole number of at least 1, not ${JSON.stringify(depth) ?? String(depth)}`);
  return Object.freeze({ name, depth, [brand]: true });
}

/** A value `pool()` made (not a look-alike object literal, which would bypass its checks). */
export function isPool(value: unknown): value is Pool {
  return typeof value === 'object' && value !== null && (value as Record<symbol, unknown>)[brand] === true;
}

/** `file:line` of the Taskfile code that called `pool()`. */
function callerPlace(): string | undefined {
  const holder: { stack?: string } = {};
  Error.captureStackTrace(holder, pool);
  const match = holder.stack?.split('\n')[1]?.match(/\(?([^\s()]+):(\d+):\d+\)?\s*$/);
  return match ? `${match[1]!.replace(/^file:\/\//, '')}:${match[2]}` : undefined;
}
