// A task's own code as its inputs, without hand lists: the module that declares the task and
// every local module it imports, found by reading their import lines.
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { relativeTo } from '../base/inside.ts';

/**
 * The module at `moduleUrl` (a task's `import.meta.url`) and every module it imports,
 * transitively, as paths relative to `root` (the Taskfile's folder), the module first and the
 * rest sorted. Editing any of them changes the task's fingerprint, so it runs again.
 *
 * Only modules in the starting module's folder and the folders under it are followed: that is
 * the Taskfile's own code (a recipe's tasks/, tasks/lib/). The engine is not followed (a
 * Taskfile imports it as `../src/index.ts` or from node_modules): it decides whether a task
 * runs, not what the task does, and an edit or upgrade of it must not rerun every task (a
 * debootstrap among them) any more than upgrading make rebuilds a project. Libraries in
 * node_modules are pinned by the lockfile, and `import type` lines are erased before anything
 * runs, so neither is followed.
 *
 * It reads each module once per Taskfile load (a few kilobytes each; no parser is loaded), as
 * it runs on every invocation, a no-op included.
 */
export function codeInputs(moduleUrl: string | URL, root: string): string[] {
  const start = fileURLToPath(moduleUrl);
  const within = path.dirname(start) + path.sep;
  const seen = new Set<string>([start]);
  const pending = [start];
  for (let file = pending.pop(); file !== undefined; file = pending.pop()) {
    for (const imported of localImports(file)) {
      if (!imported.startsWith(within) || imported.includes(`${path.sep}node_modules${path.sep}`) || seen.has(imported)) continue;
      seen.add(imported);
      pending.push(imported);
    }
  }
  const [first, ...rest] = [...seen].map((file) => relativeTo(root, file));
  return [first!, ...rest.sort()];
}

/**
 * Modules read since the file last changed: each task of a Taskfile walks the same helpers.
 * Within one load only: an edit that keeps a file's size within its mtime's granularity would
 * look unchanged to a cache kept longer, so --watch forgets it on each reload (forgetImports).
 */
const importsOf = new Map<string, { mtimeMs: number; size: number; imports: string[] }>();

/**
 * Sources the engine read just before the load, to check its record of the Taskfile's code
 * (recorded-code.ts), with the stat each was read at: a module's first walk here takes its text
 * instead of reading the file a second time.
 */
const sourcesRead = new Map<string, { mtimeMs: number; size: number; text: string }>();

/** Hands over a module's text, read at `stat`, for its first walk. */
export function noteSourceRead(file: string, stat: { mtimeMs: number; size: number }, text: string): void {
  sourcesRead.set(file, { mtimeMs: stat.mtimeMs, size: stat.size, text });
}

/** Forgets the modules read so far: the next call reads each again (a --watch reload). */
export function forgetImports(): void {
  importsOf.clear();
  sourcesRead.clear();
}

/** The files a module's relative imports name (resolved; those that exist), type-only ones left out. */
function localImports(file: string): string[] {
  const stat = fs.statSync(file, { throwIfNoEntry: false });
  if (!stat?.isFile()) return [];
  const known = importsOf.get(file);
  if (known && known.mtimeMs === stat.mtimeMs && known.size === stat.size) return known.imports;
  const read = sourcesRead.get(file);
  sourcesRead.delete(file);
  const text = read && read.mtimeMs === stat.mtimeMs && read.size === stat.size ? read.text : fs.readFileSync(file, 'utf8');
  const imports: string[] = [];
  for (const specifier of relativeSpecifiers(text)) {
    const resolved = resolveModule(path.resolve(path.dirname(file), specifier));
    if (resolved !== undefined) imports.push(resolved);
  }
  importsOf.set(file, { mtimeMs: stat.mtimeMs, size: stat.size, imports });
  return imports;
}

// `import x from '../a.ts'`, `import { a, type B } from '../../b.ts'`, `export * from '../c.ts'`,
// `import '../d.ts'`, over several lines; and `import('../e.ts')` with a literal.
const staticImport = /^[ \t]*(import|export)\s+(type\s+)?(?:([^'"`;]*?)\s*from\s*)?['"](\.{1,2}\/[^'"]+)['"]/gm;
const dynamicImport = /\bimport\(\s*['"](\.{1,2}\/[^'"]+)['"]\s*\)/g;

/** The relative specifiers of a module's runtime imports, from its source text. */
export function relativeSpecifiers(source: string): string[] {
  const found: string[] = [];
  for (const [, , typeOnly, clause, specifier] of source.matchAll(staticImport)) {
    if (typeOnly || (clause !== undefined && onlyTypes(clause))) continue;
    found.push(specifier!);
  }
  for (const [, specifier] of source.matchAll(dynamicImport)) found.push(specifier!);
  return found;
}

/** `{ type A, type B }`: every name imported is a type, so the import is erased. */
function onlyTypes(clause: string): boolean {
  const names = clause.match(/^\{([^}]*)\}$/s)?.[1]?.split(',').map((name) => name.trim()).filter(Boolean);
  return names !== undefined && names.length > 0 && names.every((name) => name.startsWith('type '));
}

/** The file a relative specifier names: as written, or with .ts, or a folder's index.ts. */
function resolveModule(target: string): string | undefined {
  for (const candidate of [target, `${target}.ts`, path.join(target, 'index.ts')]) {
    if (fs.statSync(candidate, { throwIfNoEntry: false })?.isFile()) return candidate;
  }
  return undefined;
}
