// The task graph, pure: no I/O. Resolves names, finds cycles and conflicting outputs,
// takes the closure of the targets and orders it.
import path from 'node:path';
import { TaskfileError, UsageError } from '../base/errors.ts';
import type { TaskDef } from '../taskfile/registry.ts';
import { didYouMean } from '../base/suggest.ts';
import { isPool } from '../taskfile/pool.ts';
import type { TaskSpec } from '../taskfile/types.ts';

/** A task in the graph, with its names resolved and its paths made absolute. */
export interface Node {
  name: string;
  spec: TaskSpec;
  deps: string[];
  dependents: string[];
  /** Absolute paths of declared outputs. */
  outputs: string[];
  /** Declared inputs, as written (relative to the root, or absolute; may be globs). */
  inputs: string[];
  /**
   * Beside each input, for a plain path (not a glob): its absolute path and its key in a
   * fingerprint. An array, not a Map: a Map per task weighs on a 10,000-task build.
   */
  literalInputs: Array<{ file: string; key: string } | undefined>;
  /** Outputs as shown and fingerprinted: relative to the root where inside it. */
  outputKeys: string[];
  /** The declared commands, each an argv, in order (none: empty). */
  commands: string[][];
  /** The commands as fingerprinted: their JSON, or '' for none. */
  commandKey: string;
  /** The depfile's absolute path, when the task declares one. */
  depfile?: string;
  /** The pool the task runs in, if any ('console' is depth 1). */
  pool: { name: string; depth: number } | undefined;
}

export interface Graph {
  root: string;
  nodes: Map<string, Node>;
  /** Output path -> the task that declares it. */
  producers: Map<string, string>;
}

const taskNamePattern = /^[A-Za-z0-9_][A-Za-z0-9_.:@+-]*$/;
const globChars = /[*?[\]{}]/;
/** A relative path already in normal form: no `.` or `..` segment, no empty one, no backslash. */
const plainRelative = /^(?!\.{1,2}(?:\/|$))(?!.*\/\.{1,2}(?:\/|$))(?!.*\/\/)[^/\\][^\\]*(?<!\/)$/;

/**
 * A declared path's absolute form and its key (relative to the root where inside it). Most
 * paths are plain relative ones, joined without path.resolve's normalising (thousands a build).
 */
export function placePath(root: string, declared: string): { file: string; key: string } {
  if (plainRelative.test(declared) && !root.endsWith('/')) return { file: `${root}/${declared}`, key: declared };
  const file = path.resolve(root, declared);
  return { file, key: path.relative(root, file) || file };
}

const isString = (v: unknown) => typeof v === 'string';
/** An array whose every item passes `item`; holes are skipped, as `every` skips them (a loop: this runs for every task of every run). */
const arrayOf = (item: (v: unknown) => boolean) => (v: unknown) => {
  if (!Array.isArray(v)) return false;
  for (let i = 0; i < v.length; i++) if (!item(v[i]) && i in v) return false;
  return true;
};

/** An argv: a non-empty array of strings, without holes. */
const isArgv = (v: unknown) => Array.isArray(v) && v.length > 0 && Array.from(v).every(isString);
/** One argv or a non-empty list of them. */
const isCommand = (v: unknown) => isArgv(v) || (Array.isArray(v) && v.length > 0 && Array.from(v).every(isArgv));

/** A task's declared commands as a list of argvs. */
export function commandsOf(command: unknown): string[][] {
  if (!Array.isArray(command) || command.length === 0) return [];
  return typeof command[0] === 'string' ? [[...(command as string[])]] : (command as string[][]).map((argv) => [...argv]);
}

/** The commands as fingerprinted: their JSON, or '' for none. */
export function commandKeyOf(commands: readonly string[][]): string {
  return commands.length > 0 ? JSON.stringify(commands) : '';
}

/** Each spec field and the check its value must pass; a typo such as `input:` is caught too. */
const specFields: Record<string, [string, (v: unknown) => boolean]> = {
  description: ['a string', isString],
  deps: ['an array of tasks or names', Array.isArray],
  inputs: ['an array of strings', arrayOf(isString)],
  outputs: ['an array of strings', arrayOf(isString)],
  values: ['a plain object of JSON data', (v) => typeof v === 'object' && v !== null && !Array.isArray(v) && notJsonAt(v, 'values') === undefined],
  check: ['a function', (v) => typeof v === 'function'],
  always: ['true or false', (v) => typeof v === 'boolean'],
  timeout: ['a number of milliseconds', (v) => typeof v === 'number' && v > 0],
  pool: ["'console' or a pool made by pool(name, depth)", (v) => v === 'console' || isPool(v)],
  command: ['an argv (a non-empty array of strings) or a non-empty list of them', isCommand],
  depfile: ['a path (a non-empty string)', (v) => typeof v === 'string' && v !== ''],
  run: ['a function', (v) => typeof v === 'function'],
  cache: ['true or false', (v) => typeof v === 'boolean'],
  clean: ['a function', (v) => typeof v === 'function'],
};

/**
 * Where a value stops being plain JSON data, what survives JSON.stringify unchanged (no
 * functions, dates, NaN, class instances, cycles): `at` and what is found there, or undefined.
 */
function notJsonAt(value: unknown, at: string, within: Set<object> = new Set()): string | undefined {
  if (value === null || typeof value === 'string' || typeof value === 'boolean') return undefined;
  if (typeof value === 'number') return Number.isFinite(value) ? undefined : `${at} is ${value}`;
  if (typeof value !== 'object') return `${at} is ${typeof value === 'undefined' ? 'undefined' : `a ${typeof value}`}`;
  if (within.has(value)) return `${at} is a circular reference`;
  const array = Array.isArray(value);
  if (!array && Object.getPrototypeOf(value) !== Object.prototype) return `${at} is a ${value.constructor?.name ?? 'object without a prototype'}`;
  within.add(value);
  for (const [key, item] of Object.entries(value)) {
    const found = notJsonAt(item, array ? `${at}[${key}]` : `${at}.${key}`, within);
    if (found) return found;
  }
  within.delete(value);
  return undefined;
}

/** Checks one declaration's fields; throws a TaskfileError naming the task and the field. */
export function checkSpec(def: TaskDef): void {
  const spec = def.spec as unknown as Record<string, unknown>;
  if (typeof spec !== 'object' || spec === null) throw new TaskfileError(`task '${def.name}': its spec is not an object`);
  for (const field of Object.keys(spec)) {
    const value = spec[field];
    const rule = specFields[field];
    if (!rule) throw new TaskfileError(`task '${def.name}': unknown field '${field}'${didYouMean(field, Object.keys(specFields))}`);
    if (value !== undefined && !rule[1](value)) {
      const where = field === 'values' && typeof value === 'object' && value !== null ? notJsonAt(value, 'values') : undefined;
      throw new TaskfileError(`task '${def.name}': ${field} must be ${rule[0]}${where ? ` (${where})` : ''}`);
    }
  }
}

/** Builds the whole graph of a Taskfile's declarations, or throws a TaskfileError. */
export function buildGraph(defs: Map<string, TaskDef>, root: string): Graph {
  const nodes = new Map<string, Node>();
  const producers = new Map<string, string>();
  // One string per path: an output and the same path declared as its dependents' input share
  // it, so the maps and caches that key on it (producers, stats, digests) hash it once.
  const placed = new Map<string, { file: string; key: string }>();
  /** Pool name -> the first task that used it, with the depth it gave. */
  const pools = new Map<string, { depth: number; task: string }>();
  const place = (declared: string) => {
    let where = placed.get(declared);
    if (where === undefined) placed.set(declared, (where = placePath(root, declared)));
    return where;
  };
  for (const def of defs.values()) {
    if (!taskNamePattern.test(def.name)) {
      throw new TaskfileError(`task name '${def.name}' is not valid: use letters, digits and _ . : @ + -`);
    }
    checkSpec(def);
    const deps: string[] = [];
    for (const dep of def.spec.deps ?? []) {
      const name = typeof dep === 'string' ? dep : dep?.name;
      if (typeof name !== 'string') throw new TaskfileError(`task '${def.name}': a dependency is neither a task nor a name`);
      if (!defs.has(name)) {
        throw new TaskfileError(`task '${def.name}' depends on unknown task '${name}'${didYouMean(name, defs.keys())}`);
      }
      if (!deps.includes(name)) deps.push(name);
    }
    const placedOutputs = (def.spec.outputs ?? []).map(place);
    const outputs = placedOutputs.map((placed) => placed.file);
    for (const out of outputs) {
      const other = producers.get(out);
      if (other !== undefined && other !== def.name) {
        throw new TaskfileError(`tasks '${other}' and '${def.name}' both declare the output ${path.relative(root, out) || out}`);
      }
      producers.set(out, def.name);
    }
    const inputs = [...(def.spec.inputs ?? [])];
    const literalInputs = inputs.map((input) => (globChars.test(input) ? undefined : place(input)));
    const outputKeys = placedOutputs.map((placed) => placed.key);
    const commands = commandsOf(def.spec.command);
    const commandKey = commandKeyOf(commands);
    const node: Node = { name: def.name, spec: def.spec, deps, dependents: [], outputs, inputs, literalInputs, outputKeys, commands, commandKey, pool: poolOf(def, pools) };
    if (def.spec.depfile !== undefined) {
      node.depfile = place(def.spec.depfile).file;
      if (!def.spec.run && commands.length === 0) throw new TaskfileError(`task '${def.name}': depfile ${def.spec.depfile} needs a command or run to write it`);
    }
    nodes.set(def.name, node);
  }
  // As in make: an input that another task declares as its output makes that task a dependency.
  for (const node of nodes.values()) {
    // A depfile is removed once read: as a declared output it would be missing after every run.
    if (node.depfile !== undefined && producers.has(node.depfile)) {
      throw new TaskfileError(`task '${node.name}': depfile ${node.spec.depfile} is also a declared output; it is read and removed after the run, so leave it out of outputs`);
    }
    for (const [i, input] of node.inputs.entries()) {
      const literal = node.literalInputs[i];
      if (literal === undefined) continue;
      const producer = producers.get(literal.file);
      if (producer === node.name) throw new TaskfileError(`task '${node.name}' declares ${input} both as an input and as an output`);
      if (producer !== undefined && !node.deps.includes(producer)) node.deps.push(producer);
    }
  }
  for (const node of nodes.values()) {
    for (const dep of node.deps) nodes.get(dep)?.dependents.push(node.name);
  }
  const cycle = findCycle(nodes);
  if (cycle) throw new TaskfileError(`dependency cycle: ${cycle.join(' -> ')}`);
  return { root, nodes, producers };
}

/** A task's pool; two pools of one name must agree on the depth (ninja has one declaration per name). */
function poolOf(def: TaskDef, pools: Map<string, { depth: number; task: string }>): Node['pool'] {
  const given = def.spec.pool;
  if (given === undefined) return undefined;
  const { name, depth } = given === 'console' ? { name: 'console', depth: 1 } : given;
  const first = pools.get(name);
  if (first === undefined) pools.set(name, { depth, task: def.name });
  else if (first.depth !== depth) {
    throw new TaskfileError(`pool '${name}' is declared with depth ${first.depth} (task '${first.task}') and depth ${depth} (task '${def.name}'): declare it once`);
  }
  return { name, depth };
}

/** A cycle as a list of names whose first and last are the same, or undefined. Iterative: deep chains are fine. */
export function findCycle(nodes: Map<string, Pick<Node, 'deps'>>): string[] | undefined {
  const state = new Map<string, 'visiting' | 'done'>();
  for (const start of nodes.keys()) {
    if (state.has(start)) continue;
    const stack: Array<{ name: string; next: number }> = [{ name: start, next: 0 }];
    state.set(start, 'visiting');
    while (stack.length > 0) {
      const top = stack[stack.length - 1]!;
      const deps = nodes.get(top.name)?.deps ?? [];
      if (top.next < deps.length) {
        const dep = deps[top.next++]!;
        const seen = state.get(dep);
        if (seen === 'visiting') {
          const names = stack.map((frame) => frame.name);
          return [...names.slice(names.indexOf(dep)), dep];
        }
        if (seen === undefined) {
          state.set(dep, 'visiting');
          stack.push({ name: dep, next: 0 });
        }
      } else {
        state.set(top.name, 'done');
        stack.pop();
      }
    }
  }
  return undefined;
}

/** Checks target names against the declared tasks, with "did you mean" for unknown ones. */
export function checkTargets(tasks: ReadonlyMap<string, unknown>, targets: readonly string[]): void {
  for (const target of targets) {
    if (!tasks.has(target)) {
      throw new UsageError(`unknown task '${target}'${didYouMean(target, tasks.keys()) || targetHint(tasks, target)}`);
    }
  }
}

/** What a make user may have meant by a target that names no task: a file a task makes, or a Taskfile. */
function targetHint(tasks: ReadonlyMap<string, unknown>, target: string): string {
  const file = target.replace(/^\.\//, '');
  for (const [name, task] of tasks) {
    const outputs = (task as { spec?: { outputs?: unknown } }).spec?.outputs;
    if (Array.isArray(outputs) && outputs.some((output) => typeof output === 'string' && output.replace(/^\.\//, '') === file)) {
      return ` (task '${name}' makes ${target}: targets are task names)`;
    }
  }
  if (/\.[cm]?[jt]s$/.test(target)) return ' (-f is --force here; another Taskfile is --taskfile FILE)';
  return '';
}

/** The targets and everything they depend on, in an order where dependencies come first. */
export function closure(graph: Graph, targets: readonly string[]): string[] {
  checkTargets(graph.nodes, targets);
  const order: string[] = [];
  const seen = new Set<string>();
  // Iterative post-order, so a 10,000-task chain does not overflow the stack.
  for (const target of targets) {
    if (seen.has(target)) continue;
    const stack: Array<{ name: string; next: number }> = [{ name: target, next: 0 }];
    seen.add(target);
    while (stack.length > 0) {
      const top = stack[stack.length - 1]!;
      const deps = graph.nodes.get(top.name)!.deps;
      if (top.next < deps.length) {
        const dep = deps[top.next++]!;
        if (!seen.has(dep)) {
          seen.add(dep);
          stack.push({ name: dep, next: 0 });
        }
      } else {
        order.push(top.name);
        stack.pop();
      }
    }
  }
  return order;
}

/** Length of the longest chain from each task to the end of the build: ninja's critical path. */
export function criticalPathLengths(graph: Graph, order: readonly string[]): Map<string, number> {
  const inClosure = new Set(order);
  const lengths = new Map<string, number>();
  for (let i = order.length - 1; i >= 0; i--) {
    const name = order[i]!;
    let longest = 0;
    for (const dependent of graph.nodes.get(name)!.dependents) {
      if (inClosure.has(dependent)) longest = Math.max(longest, lengths.get(dependent) ?? 0);
    }
    lengths.set(name, longest + 1);
  }
  return lengths;
}
