// Task generators: a task per file a glob matches, in a few lines of a Taskfile, and the C rule
// a ninja user writes first (compile each .c with its depfile, then link). They only declare
// tasks; what "up to date" means is the engine's, as for any hand-written task.
import path from 'node:path';
import { realDisk } from '../base/disk.ts';
import { relativeTo } from '../base/inside.ts';
import { registry } from './registry.ts';
import type { TaskRef, TaskSpec } from './types.ts';

/** A file a generator's glob matched, relative to the Taskfile's folder: `src/net/io.c`. */
export interface SourceFile {
  /** `src/net/io.c` */
  path: string;
  /** `src/net` ('' at the top) */
  dir: string;
  /** `io.c` */
  base: string;
  /** `src/net/io`: the path without its extension, to name what is made from it. */
  stem: string;
  /** `.c` */
  ext: string;
}

/** How a generator declares a task: `task()` of src/index.ts. */
export type Declare = (name: string, spec: TaskSpec) => TaskRef;

/**
 * The files the patterns match, relative to `root` (the Taskfile's folder: the CLI loads a
 * Taskfile from there), sorted so that the tasks are declared in the same order on every load. A
 * pattern that matches nothing is a Taskfile error (reported after loading, exit 2): it is a typo
 * far more often than an empty folder.
 */
export function matchFiles(patterns: string | readonly string[], root = process.cwd()): SourceFile[] {
  const files = new Set<string>();
  for (const pattern of typeof patterns === 'string' ? [patterns] : patterns) {
    const matches = realDisk.glob(pattern, root);
    if (matches.length === 0) registry().errors.push(`the pattern ${pattern} matches no file under ${root}`);
    for (const match of matches) files.add(relativeTo(root, match));
  }
  return [...files].sort().map((file) => {
    const ext = path.extname(file);
    const dir = path.dirname(file);
    return { path: file, dir: dir === '.' ? '' : dir, base: path.basename(file), stem: file.slice(0, file.length - ext.length), ext };
  });
}

/** One task per file the patterns match: `make` gives each its name and spec. */
export function eachFile(declare: Declare, patterns: string | readonly string[], make: (file: SourceFile) => TaskSpec & { name: string }): TaskRef[] {
  return matchFiles(patterns).map((file) => {
    const { name, ...spec } = make(file);
    return declare(name, spec);
  });
}

/** What `cProgram` builds and how. Paths are relative to the Taskfile's folder. */
export interface CProgramOptions {
  /** Globs of the sources, each compiled to one object: `'src/**\/*.c'`. */
  sources: string | readonly string[];
  /** The program's path. Default `build/NAME`. */
  output?: string;
  /** Where objects go, in the sources' tree (`src/a.c` -> `OBJDIR/src/a.o`). Default `build/obj`. */
  objDir?: string;
  /** The compiler, also used to link. Default `cc`. */
  cc?: string;
  /** Flags of every compile: `['-O2', '-Iinclude']`. */
  cflags?: readonly string[];
  /** Extra flags of one source's compile. */
  flagsFor?: (file: SourceFile) => readonly string[];
  /** Flags of the link, before the objects. */
  ldflags?: readonly string[];
  /** Libraries, after the objects: `['-lm']`. */
  libs?: readonly string[];
  /** Tasks every compile waits for (a generated header's task). */
  deps?: TaskSpec['deps'];
  /** Pool of the link step, when one is given (a link is memory-heavy). */
  linkPool?: TaskSpec['pool'];
}

/**
 * A C or C++ program: one compile task per source, `NAME:src:a.o` for `src/a.c`, running
 * `CC CFLAGS FLAGSFOR -MMD -MF OBJ.d -c SRC -o OBJ` with that depfile (so the headers each source
 * includes are its discovered inputs), and a link task `NAME` running `CC LDFLAGS -o OUTPUT
 * OBJS LIBS`. Every flag is in a declared command, so changing one reruns exactly the tasks whose
 * command it is in.
 */
export function cProgram(declare: Declare, name: string, options: CProgramOptions): { link: TaskRef; objects: TaskRef[] } {
  const cc = options.cc ?? 'cc';
  const objDir = options.objDir ?? 'build/obj';
  const output = options.output ?? `build/${name}`;
  const objectFiles: string[] = [];
  const objects = eachFile(declare, options.sources, (file) => {
    const object = `${objDir}/${file.stem}.o`;
    const depfile = `${object}.d`;
    objectFiles.push(object);
    return {
      name: `${name}:${file.stem.replaceAll('/', ':')}.o`,
      ...(options.deps ? { deps: options.deps } : {}),
      inputs: [file.path],
      outputs: [object],
      depfile,
      command: [cc, ...(options.cflags ?? []), ...(options.flagsFor?.(file) ?? []), '-MMD', '-MF', depfile, '-c', file.path, '-o', object],
    };
  });
  const link = declare(name, {
    inputs: objectFiles,
    outputs: [output],
    ...(options.linkPool ? { pool: options.linkPool } : {}),
    command: [cc, ...(options.ldflags ?? []), '-o', output, ...objectFiles, ...(options.libs ?? [])],
  });
  return { link, objects };
}
