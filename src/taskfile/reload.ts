// Loading a Taskfile again after an edit (`--watch`). jiti keeps every module it compiled in
// Node's module cache, so importing the Taskfile a second time would give the first load's tasks.
// The modules a load brings into the cache that are the Taskfile's own code (its folder and below,
// outside node_modules) are noted: --watch watches them, and forgets them before the next load,
// so that it compiles them afresh. Libraries in node_modules and the engine loaded before the
// Taskfile stay as they are.
import { createRequire } from 'node:module';
import path from 'node:path';
import { forgetImports } from './code-inputs.ts';

const moduleCache = createRequire(import.meta.url).cache;

export class TaskfileModules {
  readonly #root: string;
  readonly #modules = new Set<string>();

  /** `file`: the Taskfile; it is one of the modules even when a load fails before compiling it. */
  constructor(readonly file: string) {
    this.#root = path.dirname(file);
  }

  /** Runs `load`, noting the Taskfile's own modules it brought into the cache, whether it succeeds or throws. */
  async load<T>(load: () => Promise<T>): Promise<T> {
    const before = new Set(Object.keys(moduleCache));
    try {
      return await load();
    } finally {
      for (const file of Object.keys(moduleCache)) {
        if (!before.has(file) && this.#own(file)) this.#modules.add(file);
      }
    }
  }

  /** The Taskfile and the modules of its own that any load so far compiled. */
  get files(): string[] {
    return [...new Set([this.file, ...this.#modules])].sort();
  }

  /**
   * Drops them from the module cache, so that the next load reads and compiles them again, and
   * the import lines codeInputs read, so that it reads the module graph again too. They stay in
   * `files`: a helper that fails to compile on the next load is still one to watch.
   */
  forget(): void {
    for (const file of this.#modules) delete moduleCache[file];
    forgetImports();
  }

  #own(file: string): boolean {
    return file.startsWith(`${this.#root}${path.sep}`) && !file.split(path.sep).includes('node_modules');
  }
}
