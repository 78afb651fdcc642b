// Runs a Taskfile's modules from their recorded code (recorded-code.ts) the way jiti runs what it
// compiled: each body in jiti's wrapper, registered in Node's module cache as jiti registers it,
// each import answered with what jiti answers. An import the record does not name (computed at
// run time), `require` and `import.meta.resolve` go to a jiti made on first use.
import { createRequire, isBuiltin, Module } from 'node:module';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import vm from 'node:vm';
import type { CodeRecord } from './recorded-code.ts';

/** The parts of a jiti instance a module may reach. */
export interface JitiLike {
  (id: string): unknown;
  import(id: string): Promise<unknown>;
  esmResolve(id: string, parent?: string | { parentURL?: string }): string | URL | undefined;
}

export interface ModuleHost {
  /** The engine's API: the paths that name it (src/index.ts, dist/index.js) and its exports. */
  api: { files: ReadonlySet<string>; exports: object };
  /** A jiti resolving from `file`, made when first needed. */
  jitiFor: (file: string) => JitiLike;
}

const moduleCache = createRequire(import.meta.url).cache;

/** Evaluates the record's entry and what it imports; resolves to the entry's exports as jiti.import would. */
export function runRecorded(record: CodeRecord, host: ModuleHost): Promise<unknown> {
  // Modules of this load, evaluating or done: a cycle gets the exports as they are so far, as in jiti.
  const started = new Map<string, Module>();

  async function load(file: string): Promise<unknown> {
    const known = started.get(file) ?? (moduleCache[file]?.loaded ? moduleCache[file] : undefined);
    if (known) return interopDefault(known.exports);
    const dir = path.dirname(file);
    const module = new Module(file);
    module.filename = file;
    started.set(file, module);
    moduleCache[file] = module;
    const body = vm.runInThisContext(
      `(async function (exports, require, module, __filename, __dirname, jitiImport, jitiESMResolve) { ${record.modules[file]!.code}\n});`,
      { filename: file },
    ) as (...args: unknown[]) => Promise<void>;
    const require = (id: string) => host.jitiFor(file)(id);
    const esmResolve = (id: string, parent?: string | { parentURL?: string }) => host.jitiFor(file).esmResolve(id, parent);
    try {
      await body(module.exports, require, module, file, dir, (specifier: string) => importFrom(file, specifier), esmResolve);
    } catch (error) {
      delete moduleCache[file];
      throw error;
    }
    module.loaded = true;
    return interopDefault(module.exports);
  }

  async function importFrom(file: string, specifier: string): Promise<unknown> {
    const target = record.modules[file]!.imports[specifier];
    if (target === undefined) return host.jitiFor(file).import(specifier);
    if (isBuiltin(target)) return interopDefault(await import(target));
    if (host.api.files.has(target)) return interopDefault(host.api.exports);
    if (record.modules[target]) return load(target);
    // jiti reads JSON with require and compiles other extensions; neither is in a record's path.
    if (!/\.[cm]?js$/.test(target)) return host.jitiFor(file).import(specifier);
    return interopDefault(await import(pathToFileURL(target).href));
  }

  return load(record.entry);
}

/**
 * jiti's view of a module's exports (its `interopDefault`, on by default): `default` is the CommonJS
 * exports of a package imported natively, its properties are read through it, and `__esModule` is
 * true, so that Babel's import helpers treat every module alike. Kept as jiti has it, so that an
 * import gives a module the same value either way.
 */
function interopDefault(exports: unknown): unknown {
  const kind = typeof exports;
  if (exports === null || (kind !== 'object' && kind !== 'function')) return exports;
  const target = exports as Record<PropertyKey, unknown>;
  const inner = target.default as Record<PropertyKey, unknown> | null | undefined;
  const innerKind = typeof inner;
  const noDefault = inner === null || inner === undefined;
  const innerIsObject = innerKind === 'object' || innerKind === 'function';
  if (noDefault && exports instanceof Promise) return exports;
  const callable = innerKind === 'function' && kind !== 'function';
  const readsThrough = innerIsObject && !(inner instanceof Promise);
  const seen = new Map<PropertyKey, unknown>();
  return new Proxy(target, {
    get(object, key) {
      if (seen.has(key)) return seen.get(key);
      let value: unknown;
      if (key === '__esModule') value = true;
      else if (key === 'default') value = noDefault ? target : typeof inner?.default === 'function' && target.__esModule ? inner!.default : inner;
      else if (key in object) value = object[key];
      else if (readsThrough) {
        value = inner![key];
        if (typeof value === 'function') value = (value as (...args: unknown[]) => unknown).bind(inner);
      }
      seen.set(key, value);
      return value;
    },
    apply: callable ? (_object, self, args) => Reflect.apply(inner as unknown as (...a: unknown[]) => unknown, self, args) : undefined,
  });
}
