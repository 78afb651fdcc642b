// The code jiti compiled for a Taskfile's own modules, recorded in the state folder so that a later
// start whose modules are unchanged runs it without loading jiti (recorded-modules.ts): jiti and
// its per-module work are about 45 ms of a recipe's no-op. The code is jiti's output byte for byte,
// so a task's `run` has the same text, and its task the same fingerprint, whichever way it loaded.
import fs from 'node:fs';
import { createRequire, isBuiltin } from 'node:module';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { sha256 } from '../base/digest.ts';
import { noteSourceRead } from './code-inputs.ts';

/** What jiti made of one module. */
export interface RecordedModule {
  /** sha256 of the source it was compiled from. */
  source: string;
  /** jiti's output: the body of an async function whose imports are `await jitiImport("...")`. */
  code: string;
  /** What each string-literal import resolved to: a built-in's name or an absolute path. */
  imports: Record<string, string>;
}

export interface CodeRecord {
  format: 1;
  /** jiti's version: another version may compile the same source differently. */
  jiti: string;
  /** The Taskfile: the module a load starts from. */
  entry: string;
  /** By absolute path. */
  modules: Record<string, RecordedModule>;
}

/** What jiti's `transform` hook saw: a module it compiled, and how. */
export interface CompiledModule {
  file: string;
  source: string;
  code: string;
  /** Compiled for an `import` (its imports awaited), not for a `require`. */
  async: boolean;
}

/**
 * The record at `recordFile` if it was made by this jiti for this Taskfile and every module it
 * holds still has the source it was compiled from; otherwise undefined (jiti loads, as ever).
 */
export function usableRecord(recordFile: string, entry: string, jitiVersion: string): CodeRecord | undefined {
  try {
    const record = JSON.parse(fs.readFileSync(recordFile, 'utf8')) as CodeRecord;
    if (record.format !== 1 || record.jiti !== jitiVersion || record.entry !== entry || !record.modules[entry]) return undefined;
    for (const [file, module] of Object.entries(record.modules)) {
      const stat = fs.statSync(file);
      const text = fs.readFileSync(file, 'utf8');
      if (sha256(text) !== module.source) return undefined;
      // The load's walk of the task modules' imports (code-inputs.ts) need not read it again.
      noteSourceRead(file, stat, text);
    }
    return record;
  } catch {
    return undefined;
  }
}

/**
 * The record of a load in which jiti compiled `compiled`, or why none can be made. `resolve` is
 * jiti's own resolution of an import from a module (its `esmResolve`), so that the record answers
 * each import as the load did.
 */
export function makeRecord(options: {
  entry: string;
  jitiVersion: string;
  compiled: readonly CompiledModule[];
  resolve: (specifier: string, parentUrl: string) => string | URL | undefined;
}): CodeRecord | { unrecordable: string } {
  const modules: Record<string, RecordedModule> = {};
  for (const { file, source, code, async } of options.compiled) {
    if (!async) return { unrecordable: `${file} was loaded by require()` };
    // jiti's way of reporting a module it could not compile: never recorded (nor cached by jiti).
    if (code.includes('__JITI_ERROR__')) return { unrecordable: `jiti could not compile ${file}` };
    const imports: Record<string, string> = {};
    for (const [, literal] of code.matchAll(/\bjitiImport\(("(?:[^"\\]|\\.)*")\)/g)) {
      const specifier = JSON.parse(literal!) as string;
      if (isBuiltin(specifier)) {
        imports[specifier] = specifier;
        continue;
      }
      let resolved: string | URL | undefined;
      try {
        resolved = options.resolve(specifier, pathToFileURL(file).href);
      } catch {
        continue; // never imported at load time (inside a function): jiti answers it if it ever is
      }
      if (resolved !== undefined && String(resolved).startsWith('file:')) imports[specifier] = fileURLToPath(resolved);
    }
    // The inline source map is a third of the record and unused: Node applies none without --enable-source-maps.
    modules[file] = { source: sha256(source), code: code.replace(/\/\/# sourceMappingURL=data:[^\n]*/, ''), imports };
  }
  if (!modules[options.entry]) return { unrecordable: `jiti did not compile ${options.entry}` };
  return { format: 1, jiti: options.jitiVersion, entry: options.entry, modules };
}

/**
 * Writes the record atomically, into a state folder that a build made (a first build in a fresh
 * folder loads before it makes one). A failure only costs the next start the time it would save.
 */
export function writeRecord(recordFile: string, record: CodeRecord): void {
  if (!fs.existsSync(path.dirname(recordFile))) return;
  try {
    const writeFileAtomic = createRequire(import.meta.url)('write-file-atomic') as typeof import('write-file-atomic');
    writeFileAtomic.sync(recordFile, JSON.stringify(record));
  } catch {
    // A read-only checkout, a full disk: the next start loads through jiti again.
  }
}
