// What a Taskfile declares while it is being loaded. Kept on globalThis so that a Taskfile
// importing src/index.ts by another path still registers with the CLI that loads it.
import type { TaskSpec } from './types.ts';

/** One declared task: its name and spec. */
export interface TaskDef {
  name: string;
  spec: TaskSpec;
}

/** One declared parameter. */
export interface ParamDef {
  name: string;
  defaultValue: string | number | boolean;
  description: string;
  value: string | number | boolean;
}

export interface Registry {
  tasks: Map<string, TaskDef>;
  params: Map<string, ParamDef>;
  /** `NAME=VALUE` overrides from the command line, read by `param()`. */
  overrides: Map<string, string>;
  /** Errors found while declaring (a duplicate task name), reported after loading. */
  errors: string[];
}

const key = Symbol.for('execd-builder.registry');
type Holder = { [key]?: Registry };

/** The registry the current Taskfile declares into. */
export function registry(): Registry {
  const holder = globalThis as Holder;
  holder[key] ??= { tasks: new Map(), params: new Map(), overrides: new Map(), errors: [] };
  return holder[key];
}

/** Starts a fresh registry for loading one Taskfile with the given overrides. */
export function resetRegistry(overrides: Map<string, string>): Registry {
  const fresh: Registry = { tasks: new Map(), params: new Map(), overrides, errors: [] };
  (globalThis as Holder)[key] = fresh;
  return fresh;
}
