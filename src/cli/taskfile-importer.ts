// How the installed `task` (bin/task.js, the engine bundled) imports a Taskfile: from the code jiti
// compiled for it last time when none of its modules changed (taskfile/recorded-modules.ts),
// otherwise through jiti, recording what jiti compiled for the next start.
import path from 'node:path';
import { statePaths } from '../state/state.ts';
import { makeRecord, usableRecord, writeRecord, type CompiledModule } from '../taskfile/recorded-code.ts';
import { runRecorded, type JitiLike } from '../taskfile/recorded-modules.ts';
import { unnoted } from '../taskfile/load-inputs.ts';
import type { ModuleImporter } from '../taskfile/load.ts';

/** jiti's `transform` hook: what it is given and what it returns. */
interface TransformOptions {
  filename?: string;
  source: string;
  async?: boolean;
}
type Transform = (options: TransformOptions) => { code: string };

export interface TaskfileImporterOptions {
  /**
   * A jiti resolving from `file`, with the CLI's options (its alias for the API) and these. jiti
   * itself is loaded by the first call: a start that runs recorded code never makes one.
   */
  makeJiti: (file: string, options?: { fsCache?: boolean; transform?: Transform }) => JitiLike & { transform(options: TransformOptions): string };
  jitiVersion: string;
  /** The engine's API: the paths a Taskfile imports it by, and the module itself. */
  api: { files: ReadonlySet<string>; exports: object };
}

export function taskfileImporter(options: TaskfileImporterOptions): ModuleImporter {
  const { makeJiti, jitiVersion, api } = options;
  const jitis = new Map<string, JitiLike>();
  const jitiFor = (file: string) => jitis.get(file) ?? jitis.set(file, makeJiti(file)).get(file)!;
  return async (file, { record: mayRecord = false } = {}) => {
    const recordFile = statePaths(path.join(path.dirname(file), '.task')).taskfileCode;
    // The record is the engine's, not one of the Taskfile's inputs, for the load record (load-inputs.ts).
    const record = unnoted(() => usableRecord(recordFile, file, jitiVersion));
    if (record) return runRecorded(record, { api, jitiFor });
    if (!mayRecord) return jitiFor(file).import(file);
    // jiti's own transform, with its cache on disk, behind a hook that collects each module it compiles.
    const plain = jitiFor(file) as ReturnType<TaskfileImporterOptions['makeJiti']>;
    const compiled: CompiledModule[] = [];
    const recording = makeJiti(file, {
      fsCache: false,
      transform: (transformOptions) => {
        const code = plain.transform(transformOptions);
        if (transformOptions.filename) compiled.push({ file: transformOptions.filename, source: transformOptions.source, code, async: transformOptions.async === true });
        return { code };
      },
    });
    const exports = await recording.import(file);
    unnoted(() => {
      const made = makeRecord({ entry: file, jitiVersion, compiled, resolve: (specifier, parent) => plain.esmResolve(specifier, { parentURL: parent }) });
      if ('modules' in made) writeRecord(recordFile, made);
    });
    return exports;
  };
}
