// What the cache keeps under a task's action key (Bazel's "action cache" entry, as JSON): the
// digest of each output's blob, and how long the task took to build, for "time saved".

/** One output of a cached task: a file's bytes, or a folder as one tar archive. */
export interface CachedOutput {
  /** The output as the key names it: its path relative to the project, or `#N` (see action-key.ts). */
  key: string;
  kind: 'file' | 'dir';
  /** sha256 of the blob: the file's bytes, or the folder's archive. */
  digest: string;
  size: number;
  /** A file's permission bits (a built binary stays executable). */
  mode?: number;
}

export interface ActionResult {
  version: 1;
  task: string;
  outputs: CachedOutput[];
  /** How long the run that produced it took, ms. */
  durationMs: number;
}

const isDigest = (v: unknown): v is string => typeof v === 'string' && /^[0-9a-f]{64}$/.test(v);

/** Parses an entry read from a cache; undefined for anything not exactly this shape (a miss). */
export function parseActionResult(bytes: Buffer | string): ActionResult | undefined {
  let data: unknown;
  try {
    data = JSON.parse(bytes.toString());
  } catch {
    return undefined;
  }
  const r = data as ActionResult;
  if (!r || r.version !== 1 || typeof r.task !== 'string' || !Array.isArray(r.outputs) || typeof r.durationMs !== 'number') return undefined;
  for (const o of r.outputs) {
    if (!o || typeof o.key !== 'string' || (o.kind !== 'file' && o.kind !== 'dir') || !isDigest(o.digest) || typeof o.size !== 'number') return undefined;
    if (o.mode !== undefined && typeof o.mode !== 'number') return undefined;
  }
  return r;
}
