// A task's fingerprint: one sorted JSON object of everything the task reads, hashed.
import path from 'node:path';
import { sha256 } from '../base/digest.ts';
import { pathInside, relativeTo } from '../base/inside.ts';
import type { Disk } from '../base/disk.ts';
import { globMatcher } from '../base/glob-match.ts';
import { InputNotBuiltYet, TaskFailure, TaskfileError } from '../base/errors.ts';
import type { FileStamps } from '../state/file-stamps.ts';
import type { Graph, Node } from '../graph/graph.ts';
import type { FingerprintParts } from '../state/state.ts';
import type { Value } from '../taskfile/types.ts';

export type { FingerprintParts };

/** JSON with object keys sorted, so equal data gives equal text. */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) =>
    v && typeof v === 'object' && !Array.isArray(v)
      ? Object.fromEntries(Object.entries(v as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)))
      : v,
  );
}

/**
 * A short digest of a task's fingerprint parts: which inputs, values and dependency results a run
 * was made of (the timings log's key; two runs with the same one did the same work).
 */
export function fingerprintDigest(parts: FingerprintParts): string {
  // One string hashed once, the maps in their own order (declared, sorted matches, dependency
  // order): it is taken for every task that runs, where sorting keys cost a build of many short
  // commands more than it is worth.
  let text = JSON.stringify([parts.name, parts.runSource, parts.checkSource, parts.command ?? '', canonicalJson(parts.values), parts.outputs]);
  for (const map of [parts.inputs, parts.discovered, parts.deps]) {
    text += '\n';
    if (map) for (const [key, digest] of map) text += `${key}\0${digest}\n`;
  }
  return sha256(text).slice(0, 16);
}

const globChars = /[*?[\]{}]/;

/**
 * Digests of a task's inputs, keyed by path relative to the root. A folder stands for every
 * file under it; a glob for the files it matches. A missing input fails the task, naming it.
 */
export function inputDigests(node: Node, graph: Graph, disk: Disk, stamps: FileStamps): Map<string, string> {
  const { root } = graph;
  const digests = new Map<string, string>();
  const add = (file: string) => {
    const stat = disk.stat(file);
    if (stat?.kind !== 'file') return;
    digests.set(relativeTo(root, file) || file, stamps.digest(file, stat));
  };
  for (const [i, input] of node.inputs.entries()) {
    const literal = node.literalInputs[i];
    if (literal !== undefined) {
      // The common case, without path work: a named file.
      const stat = disk.stat(literal.file);
      if (stat?.kind === 'file') {
        digests.set(literal.key, stamps.digest(literal.file, stat));
        continue;
      }
    }
    if (globChars.test(input)) {
      const matches = disk.glob(input, root);
      if (matches.length === 0) {
        const producer = producerThatMayMatch(graph, input, node.name);
        if (producer === undefined) throw new TaskFailure(`input pattern '${input}' matches no file`);
        throw new InputNotBuiltYet(`input pattern '${input}' matches no file (task '${producer}' declares an output it could match)`, input, producer);
      }
      matches.forEach(add);
      continue;
    }
    const file = path.resolve(root, input);
    const stat = disk.stat(file);
    if (stat === undefined) {
      const producer = graph.producers.get(file);
      if (producer === undefined) {
        throw new TaskfileError(`task '${node.name}': input ${input} does not exist, and no task declares it as an output`);
      }
      throw new InputNotBuiltYet(`task '${node.name}': input ${input} does not exist (task '${producer}' declares it as an output)`, input, producer);
    }
    if (stat.kind === 'dir') disk.walk(file).forEach(add);
    else add(file);
  }
  return digests;
}

/**
 * Before anything runs: every declared input that is a plain path exists, or is produced by a task
 * of the graph (it, or a folder above it, is a declared output). Otherwise a Taskfile error names
 * the task, the input and the deepest folder above it that does exist. A glob must match a file,
 * or a declared output could give it one.
 */
export function checkInputsExist(graph: Graph, order: readonly string[], disk: Disk): void {
  const { root } = graph;
  for (const name of order) {
    const node = graph.nodes.get(name)!;
    for (const [i, input] of node.inputs.entries()) {
      if (node.literalInputs[i] !== undefined || !globChars.test(input)) continue;
      if (disk.glob(input, root).length === 0 && producerThatMayMatch(graph, input, name) === undefined) {
        throw new TaskfileError(`task '${name}': input pattern '${input}' matches no file, and no task declares an output it could match`);
      }
    }
    for (const [i, literal] of node.literalInputs.entries()) {
      if (literal === undefined || graph.producers.has(literal.file) || disk.stat(literal.file) !== undefined) continue;
      let nearest = path.dirname(literal.file);
      let produced = false;
      while (disk.stat(nearest)?.kind !== 'dir') {
        if (graph.producers.has(nearest)) {
          produced = true;
          break;
        }
        const up = path.dirname(nearest);
        if (up === nearest) break;
        nearest = up;
      }
      if (produced) continue;
      const inside = pathInside(root, nearest);
      const shown = nearest === root ? './' : inside !== undefined ? `${inside}/` : nearest;
      throw new TaskfileError(
        `task '${name}': input ${node.inputs[i]} does not exist, and no task declares it as an output (nearest existing folder: ${shown})`,
      );
    }
  }
}

/**
 * The task whose declared output could give `pattern` a match once built, if one could: the output
 * matches, or it could be a folder holding matches: at or above the folder the pattern looks
 * under, or below it where the pattern still has folders to go down (or has a `**`). Not the
 * reading task's own.
 */
function producerThatMayMatch(graph: Graph, pattern: string, reader: string): string | undefined {
  const { matches, base, glob } = globMatcher(pattern);
  const absolute = path.isAbsolute(pattern);
  const looksUnder = path.resolve(graph.root, base);
  const rest = glob.split('/');
  for (const [output, producer] of graph.producers) {
    if (producer === reader) continue; // a task's own output is never its input
    if (matches(absolute ? output : relativeTo(graph.root, output))) return producer;
    if (output === looksUnder || pathInside(output, looksUnder) !== undefined) return producer;
    const below = pathInside(looksUnder, output);
    if (below !== undefined && (rest.includes('**') || below.split(path.sep).length < rest.length)) return producer;
  }
  return undefined;
}

/** Source text of a function, for the fingerprint: editing `run` reruns the task. */
const sources = new WeakMap<object, string>();
export function sourceOf(fn: unknown): string {
  if (typeof fn !== 'function') return '';
  // Taskfiles often share one run function among thousands of tasks: hash its text once.
  let digest = sources.get(fn);
  if (digest === undefined) sources.set(fn, (digest = sha256(fn.toString())));
  return digest;
}

/** A discovered path's key in the fingerprint: relative to the root where inside it, as inputs are. */
export function discoveredKey(root: string, file: string): string {
  const absolute = path.resolve(root, file);
  return pathInside(root, absolute) ?? absolute;
}

/**
 * Current digests of the inputs a task's last run discovered ('' for one that is gone). A missing
 * one is no error, unlike a declared input: the run that follows either no longer needs it (the
 * `#include` was removed with the header) or fails with the compiler's own message.
 */
export function discoveredDigests(recorded: ReadonlyMap<string, string> | undefined, root: string, disk: Disk, stamps: FileStamps): Map<string, string> | undefined {
  if (recorded === undefined) return undefined;
  const digests = new Map<string, string>();
  for (const key of recorded.keys()) {
    const file = path.resolve(root, key);
    const stat = disk.stat(file);
    digests.set(key, stat?.kind === 'file' ? stamps.digest(file, stat) : '');
  }
  return digests;
}

/**
 * What a successful run discovered, as recorded: declared inputs left out (a depfile names the
 * source it compiled). A file already digested before the run keeps that digest, so that an edit
 * made while the command ran is seen as a change by the next build; the others are digested now.
 */
export function discoveredAfterRun(
  found: Iterable<string>,
  parts: Pick<FingerprintParts, 'inputs' | 'discovered'>,
  root: string,
  disk: Disk,
  stamps: FileStamps,
): Map<string, string> | undefined {
  const digests = new Map<string, string>();
  for (const raw of found) {
    const key = discoveredKey(root, raw);
    if (parts.inputs.has(key) || digests.has(key)) continue;
    const before = parts.discovered?.get(key);
    if (before) {
      digests.set(key, before);
      continue;
    }
    const file = path.resolve(root, key);
    const stat = disk.stat(file);
    digests.set(key, stat?.kind === 'file' ? stamps.digest(file, stat) : '');
  }
  return digests.size > 0 ? digests : undefined;
}

/**
 * The parts of a fingerprint that a task's declaration alone decides (all but the input digests
 * and the dependency results, which come from the disk and from the dependencies). The one
 * producer of them: the fingerprint below and the no-op snapshot's digest of the Taskfile both
 * call it, so a part added here is compared by both (snapshot.ts), and the type makes every
 * part of FingerprintParts that is not read from the disk or the dependencies come from here.
 */
export type DeclaredParts = Required<Omit<FingerprintParts, 'inputs' | 'deps' | 'discovered'>>;

export function declaredParts(node: Pick<Node, 'name' | 'spec' | 'commandKey' | 'outputKeys'>): DeclaredParts {
  return {
    name: node.name,
    runSource: sourceOf(node.spec.run),
    checkSource: sourceOf(node.spec.check),
    command: node.commandKey,
    values: node.spec.values ?? {},
    outputs: node.outputKeys,
  };
}

/** Everything but the dependency results, which are known only when the dependencies are done. */
export function ownParts(node: Node, graph: Graph, disk: Disk, stamps: FileStamps): Omit<FingerprintParts, 'deps'> {
  return { ...declaredParts(node), inputs: inputDigests(node, graph, disk, stamps) };
}
