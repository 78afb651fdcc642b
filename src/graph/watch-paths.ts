// `--watch`: what to watch for the targets' closure, from the graph and the inputs the last runs
// discovered (no I/O). Declared and discovered inputs are watched; declared outputs never trigger
// a build (a build writes them), wherever they lie, even inside a watched folder or under a glob's base.
import path from 'node:path';
import type { Graph } from './graph.ts';

const globChars = /[*?[\]{}]/;

/** A glob input: the folder to watch for it, and how deep (undefined: all the way down, for `**`). */
export interface WatchedGlob {
  /** As declared, relative to the root (or absolute): what the disk's glob expands. */
  pattern: string;
  /** The absolute folder before its first segment with a glob character. */
  base: string;
  /** Levels of folders below `base` a match can lie in (0: in `base` itself); undefined with `**`. */
  depth: number | undefined;
}

export interface WatchPaths {
  /** Inputs given as plain paths (files or folders), absolute. */
  literal: string[];
  globs: WatchedGlob[];
  /** Every task's declared outputs, absolute: changes there are the build's own, never a reason to build. */
  outputs: Set<string>;
}

/**
 * `discovered`: the inputs the targets' last runs found (a depfile's headers, `ctx.discovered`),
 * absolute: as good as declared ones, for a header only the compiler names must rebuild too.
 */
export function watchPaths(graph: Graph, order: readonly string[], discovered: Iterable<string> = []): WatchPaths {
  const literal = new Set<string>();
  const globs = new Map<string, WatchedGlob>();
  for (const name of order) {
    const node = graph.nodes.get(name)!;
    node.inputs.forEach((input, i) => {
      const plain = node.literalInputs[i];
      if (plain !== undefined) literal.add(plain.file);
      else if (globChars.test(input)) globs.set(input, globOf(graph.root, input));
      else literal.add(path.resolve(graph.root, input));
    });
  }
  const outputs = new Set<string>();
  for (const node of graph.nodes.values()) for (const output of node.outputs) outputs.add(output);
  // A generated header a depfile names is a declared output: the build writes it, watching it would loop.
  for (const file of discovered) if (!isOutput(file, outputs)) literal.add(file);
  return { literal: [...literal].sort(), globs: [...globs.values()], outputs };
}

function globOf(root: string, pattern: string): WatchedGlob {
  const segments = pattern.split('/');
  const first = segments.findIndex((segment) => globChars.test(segment));
  const base = path.resolve(root, segments.slice(0, first).join('/') || '.');
  const rest = segments.slice(first);
  // `**`, or braces (which may hold a `/`), can reach any depth.
  const anyDepth = rest.some((segment) => segment.includes('**') || /[{}]/.test(segment));
  return { pattern, base, depth: anyDepth ? undefined : rest.length - 1 };
}

/** True when `file` is `folder` or lies under it. */
export function isWithin(file: string, folder: string): boolean {
  return file === folder || file.startsWith(folder.endsWith(path.sep) ? folder : `${folder}${path.sep}`);
}

/** True when `file` is a declared output or lies in one (a folder output): checked up the path, not against every output. */
export function isOutput(file: string, outputs: ReadonlySet<string>): boolean {
  for (let at = file; ; at = path.dirname(at)) {
    if (outputs.has(at)) return true;
    if (path.dirname(at) === at) return false;
  }
}
