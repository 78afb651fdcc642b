// The store file's format. A 10,000-task build keeps about 30,000 digests and 40,000 paths;
// written as plain records (version 1) each appeared up to four times (input digest, stamp cache,
// output record, dependency result) and the file was 13 MB to parse on every run. Version 2
// writes every string once, in a table, and records refer to it by index:
//
//   { version: 2,
//     strings: ["t0", "3f2a...", "src/0.txt", ...],
//     files: [path, size, mtimeMs, ctimeMs, ino, digest, ...]       six numbers a cached digest
//     tasks: { NAME: { r: result, t: finishedAt, ms: durationMs,
//                      run, chk: run/check source digests, c?: commands' JSON, v?: values,
//                      i: [inputKey, digest, ...], k: [outputKey, ...], d: [dep, result, ...],
//                      x?: [discoveredKey, digest ('' gone), ...], rc?: [command line, ...],
//                      o: [path, size, mtimeMs, digest, ...]   (a folder: size -1, digest -1) } } }
//
// Version 1 is still read, so an upgrade keeps every record; the next run writes version 2.
import type { FileStamp } from './file-stamps.ts';
import type { FingerprintParts, OutputRecord, TaskRecord } from './record.ts';
import type { Value } from '../taskfile/types.ts';

export const stateVersion = 2;

/** What a store file holds, decoded. */
export interface StoreContents {
  tasks: Map<string, TaskRecord>;
  files: Map<string, FileStamp>;
  /** The file's version, so that an older one is rewritten in the current format. */
  version: number;
}

// Stores written before the fingerprint hash was dropped also have `f`; it is ignored.
interface EncodedRecord {
  r: number;
  t: number;
  ms: number;
  run: number;
  chk: number;
  /** The declared commands' JSON, when the task has any. */
  c?: number;
  v?: Record<string, Value>;
  i: number[];
  k: number[];
  d: number[];
  o: number[];
  /** Discovered inputs (depfile, ctx.discovered), when the last run found any. */
  x?: number[];
  /** The command lines the last run started, when it started any. */
  rc?: number[];
}

/** Assigns each distinct string one index. */
class StringTable {
  readonly strings: string[] = [];
  #index = new Map<string, number>();

  of(text: string): number {
    let index = this.#index.get(text);
    if (index === undefined) {
      index = this.strings.length;
      this.strings.push(text);
      this.#index.set(text, index);
    }
    return index;
  }
}

/** The store as version-2 JSON text. */
export function encodeStore(tasks: ReadonlyMap<string, TaskRecord>, files: ReadonlyMap<string, FileStamp>): string {
  const table = new StringTable();
  const encodedFiles: number[] = [];
  for (const [file, stamp] of files) {
    encodedFiles.push(table.of(file), stamp.size, stamp.mtimeMs, stamp.ctimeMs, stamp.ino, table.of(stamp.digest));
  }
  const encodedTasks: Record<string, EncodedRecord> = {};
  for (const [name, record] of tasks) {
    const { parts } = record;
    const o: number[] = [];
    for (const [file, out] of record.outputs) {
      if (out.kind === 'dir') o.push(table.of(file), -1, 0, -1);
      else o.push(table.of(file), out.size, out.mtimeMs, table.of(out.digest));
    }
    const encoded: EncodedRecord = {
      r: table.of(record.result),
      t: record.finishedAt,
      ms: record.durationMs,
      run: table.of(parts.runSource),
      chk: table.of(parts.checkSource),
      i: [...parts.inputs].flatMap(([file, digest]) => [table.of(file), table.of(digest)]),
      k: parts.outputs.map((key) => table.of(key)),
      d: [...parts.deps].flatMap(([dep, result]) => [table.of(dep), table.of(result)]),
      o,
    };
    if (parts.command) encoded.c = table.of(parts.command);
    if (record.ranCommands) encoded.rc = record.ranCommands.map((line) => table.of(line));
    if (parts.discovered) encoded.x = [...parts.discovered].flatMap(([file, digest]) => [table.of(file), table.of(digest)]);
    if (Object.keys(parts.values).length > 0) encoded.v = parts.values;
    encodedTasks[name] = encoded;
  }
  return JSON.stringify({ version: stateVersion, strings: table.strings, files: encodedFiles, tasks: encodedTasks });
}

/** Thrown inside decoding; becomes the store's problem description. */
class Malformed extends Error {}

/** Decodes a parsed store file, or returns what is wrong with it (a warning's wording). */
export function decodeStore(data: unknown): StoreContents | string {
  if (typeof data !== 'object' || data === null || Array.isArray(data)) return 'is not a state store';
  const version = (data as { version?: unknown }).version;
  if (version === 1) return decodeVersion1(data as Version1File);
  if (version !== stateVersion) return `has version ${JSON.stringify(version)}, this task understands ${stateVersion} (and reads 1)`;
  const file = data as { strings?: unknown; files?: unknown; tasks?: unknown };
  if (typeof file.tasks !== 'object' || file.tasks === null) return 'has no task records';
  if (!Array.isArray(file.strings) || !file.strings.every((s) => typeof s === 'string')) return 'has no string table';
  const strings = file.strings as string[];
  const str = (index: unknown): string => {
    const text = typeof index === 'number' ? strings[index] : undefined;
    if (text === undefined) throw new Malformed();
    return text;
  };
  const num = (value: unknown): number => {
    if (typeof value !== 'number') throw new Malformed();
    return value;
  };
  const files = new Map<string, FileStamp>();
  const flat = Array.isArray(file.files) ? (file.files as unknown[]) : [];
  try {
    for (let j = 0; j + 5 < flat.length; j += 6) {
      files.set(str(flat[j]), { size: num(flat[j + 1]), mtimeMs: num(flat[j + 2]), ctimeMs: num(flat[j + 3]), ino: num(flat[j + 4]), digest: str(flat[j + 5]) });
    }
  } catch {
    return 'holds a malformed digest cache';
  }
  const tasks = new Map<string, TaskRecord>();
  for (const [name, encoded] of Object.entries(file.tasks as Record<string, unknown>)) {
    try {
      tasks.set(name, decodeRecord(name, encoded as EncodedRecord, str, num));
    } catch {
      return `holds a malformed record for task '${name}'`;
    }
  }
  return { tasks, files, version: stateVersion };
}

function decodeRecord(name: string, e: EncodedRecord, str: (index: unknown) => string, num: (value: unknown) => number): TaskRecord {
  if (typeof e !== 'object' || e === null || !Array.isArray(e.i) || !Array.isArray(e.k) || !Array.isArray(e.d) || !Array.isArray(e.o)) {
    throw new Malformed();
  }
  if (e.v !== undefined && (typeof e.v !== 'object' || e.v === null)) throw new Malformed();
  const inputs = new Map<string, string>();
  for (let j = 0; j + 1 < e.i.length; j += 2) inputs.set(str(e.i[j]), str(e.i[j + 1]));
  const deps = new Map<string, string>();
  for (let j = 0; j + 1 < e.d.length; j += 2) deps.set(str(e.d[j]), str(e.d[j + 1]));
  if (e.x !== undefined && !Array.isArray(e.x)) throw new Malformed();
  let discovered: Map<string, string> | undefined;
  for (let j = 0; e.x && j + 1 < e.x.length; j += 2) (discovered ??= new Map()).set(str(e.x[j]), str(e.x[j + 1]));
  const outputs = new Map<string, OutputRecord>();
  for (let j = 0; j + 3 < e.o.length; j += 4) {
    const size = num(e.o[j + 1]);
    outputs.set(str(e.o[j]), size < 0 ? { kind: 'dir' } : { kind: 'file', size, mtimeMs: num(e.o[j + 2]), digest: str(e.o[j + 3]) });
  }
  const parts: FingerprintParts = {
    name,
    runSource: str(e.run),
    checkSource: str(e.chk),
    // Absent when the task declares no command, so records round-trip field for field.
    ...(e.c === undefined ? {} : { command: str(e.c) }),
    values: e.v ?? {},
    inputs,
    outputs: e.k.map(str),
    ...(discovered ? { discovered } : {}),
    deps,
  };
  if (e.rc !== undefined && !Array.isArray(e.rc)) throw new Malformed();
  const ranCommands = e.rc?.map(str);
  return { parts, outputs, result: str(e.r), finishedAt: num(e.t), durationMs: num(e.ms), ...(ranCommands ? { ranCommands } : {}) };
}

interface Version1File {
  tasks?: unknown;
  files?: Record<string, FileStamp>;
}

/** Version 1: plain records and a path -> stamp object. */
function decodeVersion1(file: Version1File): StoreContents | string {
  if (typeof file.tasks !== 'object' || file.tasks === null) return 'has no task records';
  const tasks = new Map<string, TaskRecord>();
  for (const [name, plain] of Object.entries(file.tasks as Record<string, unknown>)) {
    const record = fromPlainRecord(plain);
    if (!record) return `holds a malformed record for task '${name}'`;
    tasks.set(name, record);
  }
  return { tasks, files: new Map(Object.entries(file.files ?? {})), version: 1 };
}

/** A record as plain JSON, its maps as objects: the journal's lines, and format 1's records. */
interface PlainRecord {
  parts: Omit<FingerprintParts, 'inputs' | 'deps' | 'discovered'> & { inputs: Record<string, string>; deps: Record<string, string>; discovered?: Record<string, string> };
  outputs: Record<string, OutputRecord>;
  result: string;
  finishedAt: number;
  durationMs: number;
  ranCommands?: string[];
}

export function toPlainRecord(record: TaskRecord): PlainRecord {
  const { discovered, ...parts } = record.parts;
  return {
    ...record,
    parts: {
      ...parts,
      inputs: Object.fromEntries(parts.inputs),
      deps: Object.fromEntries(parts.deps),
      ...(discovered ? { discovered: Object.fromEntries(discovered) } : {}),
    },
    outputs: Object.fromEntries(record.outputs),
  };
}

/** The record a plain one stands for, or undefined when it lacks what the engine needs (distrusting the store). */
export function fromPlainRecord(value: unknown): TaskRecord | undefined {
  const r = value as PlainRecord | null;
  const usable =
    typeof r === 'object' && r !== null && typeof r.result === 'string' &&
    typeof r.outputs === 'object' && r.outputs !== null && typeof r.parts === 'object' && r.parts !== null &&
    typeof r.parts.values === 'object' && typeof r.parts.inputs === 'object' && r.parts.inputs !== null &&
    typeof r.parts.deps === 'object' && r.parts.deps !== null && Array.isArray(r.parts.outputs);
  if (!usable) return undefined;
  const { command, discovered, ...parts } = r.parts;
  const found = typeof discovered === 'object' && discovered !== null ? Object.entries(discovered).filter(([, d]) => typeof d === 'string') : [];
  // Field by field: older records also carry a `fingerprint` hash, which nothing reads. A command
  // is kept only when there is one, so records round-trip field for field.
  const ran = Array.isArray(r.ranCommands) && r.ranCommands.every((line) => typeof line === 'string') ? { ranCommands: r.ranCommands } : {};
  return {
    ...ran,
    result: r.result,
    finishedAt: r.finishedAt,
    durationMs: r.durationMs,
    parts: {
      ...parts,
      ...(typeof command === 'string' && command !== '' ? { command } : {}),
      inputs: new Map(Object.entries(parts.inputs)),
      ...(found.length > 0 ? { discovered: new Map(found) } : {}),
      deps: new Map(Object.entries(parts.deps)),
    },
    outputs: new Map(Object.entries(r.outputs)),
  };
}
