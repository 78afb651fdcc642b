// A task's action key: the digest of everything its fingerprint holds, written so that the same
// task in another clone, another folder or on another machine gets the same key. The cache
// (local and remote) stores a task's outputs under it.
import type { Graph, Node } from '../graph/graph.ts';
import { sha256 } from '../base/digest.ts';
import { canonicalJson } from '../decide/fingerprint.ts';
import type { FingerprintParts, TaskRecord } from '../state/state.ts';

/** Bumped when what a key covers, or the layout of a cached result, changes. */
export const keyVersion = 1;

/**
 * Why a task is never cached, or undefined when it may be. A `check` probes live state (a
 * running container) that no file can restore; `always` asks to run every time; the console
 * pool talks to the user. A `run` task opts in with `cache: true`; declared commands opt in by
 * default, unless the task also has a `run`, whose effects the engine cannot see.
 */
export function notCacheable(node: Node): string | undefined {
  const { spec } = node;
  if (spec.check) return 'it has a check of live state';
  if (spec.always) return 'it always runs';
  if (spec.pool === 'console') return 'it is in the console pool';
  if (spec.cache === false) return 'it says cache: false';
  // Its inputs are known only after a run: a key made before one could miss a header that changed.
  if (spec.depfile !== undefined) return 'it has a depfile (inputs found while running)';
  if (spec.cache === true) return undefined;
  if (node.commands.length > 0 && !spec.run) return undefined;
  return spec.run ? 'a run task is cached only with cache: true' : 'it has no command';
}

/**
 * A declared output as a key sees it: its path relative to the project where it is inside it;
 * by its place in `outputs` where it is not (the rootfs under machinesDir), so that two hosts
 * that keep their containers in different folders share it. A task that writes its own path
 * into an output must name that path in its `values`.
 */
export function portableOutput(key: string, i: number): string {
  // Outside the project: an absolute key, or one relative to the root that climbs out of it.
  return key.startsWith('/') || key === '..' || key.startsWith('../') ? `#${i}` : key;
}

function portableOutputs(outputs: readonly string[]): string[] {
  return outputs.map(portableOutput);
}

/** What a dependency's record hands its dependents' keys (see `actionKeys`). */
type RecordOf = (task: string) => TaskRecord | undefined;

/**
 * Computes action keys from the state store's records. A dependency counts by what it produced:
 * the digests of its file outputs (early cutoff, as the fingerprint does) or, where it has none
 * or has folders, by its own key: what it is declared to do, never the identity of one run (a
 * random id that no other machine could match). A group counts by its dependencies.
 */
export class ActionKeys {
  #graph: Graph;
  #recordOf: RecordOf;
  #portable = new Map<string, string | undefined>();

  constructor(graph: Graph, recordOf: RecordOf) {
    this.#graph = graph;
    this.#recordOf = recordOf;
  }

  /** The key of a task about to run, from its current fingerprint; undefined when a dependency has none. */
  keyOf(parts: FingerprintParts): string | undefined {
    const deps: Record<string, string> = {};
    for (const dep of parts.deps.keys()) {
      const result = this.portableResult(dep);
      if (result === undefined) return undefined;
      deps[dep] = result;
    }
    return sha256(
      canonicalJson({
        keyVersion,
        name: parts.name,
        run: parts.runSource,
        check: parts.checkSource,
        command: parts.command ?? '',
        values: parts.values,
        inputs: Object.fromEntries([...parts.inputs].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))),
        outputs: portableOutputs(parts.outputs),
        deps,
      }),
    );
  }

  /** Forgets what a task handed on: it is about to run again. */
  forget(task: string): void {
    this.#portable.delete(task);
  }

  /** What a settled task hands its dependents' keys; undefined when it cannot be known here. */
  portableResult(task: string): string | undefined {
    if (this.#portable.has(task)) return this.#portable.get(task);
    const result = this.#computePortable(task);
    this.#portable.set(task, result);
    return result;
  }

  #computePortable(task: string): string | undefined {
    const node = this.#graph.nodes.get(task);
    if (!node) return undefined;
    const record = this.#recordOf(task);
    if (!record) {
      // A group keeps no record: it stands for its dependencies.
      if (node.spec.run || node.commands.length > 0 || node.outputs.length > 0) return undefined;
      const deps: Record<string, string> = {};
      for (const dep of node.deps) {
        const result = this.portableResult(dep);
        if (result === undefined) return undefined;
        deps[dep] = result;
      }
      return sha256(canonicalJson({ group: deps }));
    }
    const files: Record<string, string> = {};
    let onlyFiles = record.outputs.size > 0;
    node.outputs.forEach((out, i) => {
      const recorded = record.outputs.get(out);
      if (recorded?.kind === 'file') files[portableOutput(node.outputKeys[i] ?? out, i)] = recorded.digest;
      else onlyFiles = false;
    });
    if (onlyFiles) return sha256(canonicalJson({ files }));
    const key = this.keyOf(record.parts);
    return key === undefined ? undefined : `key:${key}`;
  }
}
