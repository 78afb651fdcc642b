// The cache as the build sees it: for a stale task, find its action key in the local cache or
// the remote one and restore its outputs instead of running it; after a run, store its outputs.
// Nothing here can fail a build: a cache that cannot be used is a warning, and the task runs.
import fs from 'node:fs';
import path from 'node:path';
import type { Graph, Node } from '../graph/graph.ts';
import type { CacheStats } from '../report/events.ts';
import type { FingerprintParts, OutputRecord, TaskRecord } from '../state/state.ts';
import { ActionKeys, notCacheable, portableOutput } from './action-key.ts';
import type { ActionResult, CachedOutput } from './action-result.ts';
import { packFolder, unpackInto } from './archive.ts';
import type { LocalCache } from './local-cache.ts';
import type { RemoteCache } from './remote-cache.ts';
import { besideName, copyVerified, CorruptBlob, streamHashed } from './verified-copy.ts';
import { Background } from './background.ts';

/**
 * Uploads under way at once. Node's fetch keeps its connections to the server alive, so a few
 * hide the round trips of many small uploads without flooding the server or the link.
 */
const uploadsAtOnce = 4;
/** Lookups of results ahead of their task's turn at once, and downloads of what they find. */
const lookupsAtOnce = 8;
const downloadsAtOnce = 4;

/** Work started ahead of a task's turn; the task takes it over when it comes before it started. */
interface AheadJob<T> {
  started: boolean;
  taken: boolean;
  done: Promise<T | undefined>;
}

/** What was started for a key ahead of its task's turn: the result's lookup, then its blobs' download. */
interface LookedAhead {
  lookup: AheadJob<ActionResult>;
  download?: AheadJob<void>;
}

export interface TaskCacheOptions {
  graph: Graph;
  local: LocalCache;
  remote?: RemoteCache;
  /** The state store's records: a dependency's record says what it handed on. */
  recordOf(task: string): TaskRecord | undefined;
  warn(message: string): void;
}

/** A task result found under its key, ready to be restored. */
export interface CacheHit {
  from: 'local' | 'remote';
  /** Restores every output; false when a blob proved missing or corrupt (the task then runs). */
  restore(signal: AbortSignal): Promise<boolean>;
}

export class TaskCache {
  #options: TaskCacheOptions;
  #keys: ActionKeys;
  /** Keys of the tasks looked up and missed: stored under them after their run. */
  #missed = new Map<string, string>();
  #stats: CacheStats = { localHits: 0, remoteHits: 0, misses: 0, bytesDown: 0, bytesUp: 0, savedMs: 0 };
  #warned = new Set<string>();
  /** Uploads the build does not wait for until its end. */
  #uploads = new Background(uploadsAtOnce);
  /** Blobs sent (or being sent) this build: two tasks with one output upload it once. */
  #sent = new Map<string, Promise<boolean>>();
  #lookups = new Background(lookupsAtOnce);
  #downloads = new Background(downloadsAtOnce);
  #ahead = new Map<string, LookedAhead>();
  /** Stops what was started ahead once every task is settled (a task that never started needs none of it). */
  #aheadStop = new AbortController();

  constructor(options: TaskCacheOptions) {
    this.#options = options;
    this.#keys = new ActionKeys(options.graph, options.recordOf);
  }

  /** A warning said once per build, however many tasks meet the same problem. */
  #warnOnce(kind: string, message: string): void {
    if (this.#warned.has(kind)) return;
    this.#warned.add(kind);
    this.#options.warn(message);
  }

  /** The key of a stale task, or why it has none. */
  keyOf(node: Node, parts: FingerprintParts): { key: string } | { none: string } {
    const why = notCacheable(node);
    if (why) return { none: `not cacheable: ${why}` };
    if (parts.discovered?.size) return { none: 'not cacheable: its last run discovered inputs (ctx.discovered) that a key made before a run cannot name' };
    const key = this.#keys.keyOf(parts);
    return key ? { key } : { none: 'not cacheable: a dependency left nothing another machine could match' };
  }

  /** For --explain: what the cache would do for a task that is out of date. */
  async explain(node: Node, parts: FingerprintParts, willRun: { has(task: string): boolean }, signal: AbortSignal): Promise<string> {
    const why = notCacheable(node);
    if (why) return `not cached: ${why}`;
    const pending = node.deps.find((dep) => willRun.has(dep));
    if (pending) return `cache: its key is known once dependency ${pending} has run`;
    const found = this.keyOf(node, parts);
    if ('none' in found) return found.none;
    const short = found.key.slice(0, 12);
    if (this.#options.local.readAction(found.key)) return `cache: would be restored from the local cache (key ${short})`;
    const remote = this.#options.remote;
    if (remote && (await remote.getAction(found.key, signal).catch(() => undefined))) return `cache: would be restored from the remote cache (key ${short})`;
    return `cache: miss, no result under key ${short} in the local cache${remote ? ' or the remote cache' : ''}`;
  }

  /** Whether lookAhead does anything: only a remote has round trips worth starting early. */
  get looksAhead(): boolean {
    return this.#options.remote?.readable === true;
  }

  /**
   * A stale task's dependencies are settled and it waits for a slot: its key is known, so its
   * result is looked up in the remote cache now, and what it names downloaded into the local
   * cache, a few at a time, instead of one round trip after another in the task's own slot.
   * Nothing is restored here: lookup and restore, in the task's turn, use what came.
   */
  lookAhead(node: Node, parts: FingerprintParts, signal: AbortSignal): void {
    const { remote, local } = this.#options;
    if (!remote?.readable) return;
    const found = this.keyOf(node, parts);
    if ('none' in found || this.#ahead.has(found.key) || local.hasAction(found.key)) return;
    const stop = AbortSignal.any([signal, this.#aheadStop.signal]);
    const ahead: LookedAhead = {
      lookup: aheadJob(this.#lookups, async () => {
        const result = await remote.getAction(found.key, stop);
        if (result && this.#matches(node, result)) {
          ahead.download = aheadJob(this.#downloads, async () => {
            for (const out of result.outputs) {
              if (stop.aborted) return;
              // A folder is not fetched ahead: the restore unpacks it as it downloads.
              if (out.kind === 'dir') continue;
              // A corrupt or missing blob is left for the restore, which says so.
              if (!local.hasBlob(out.digest, out.size)) await remote.fetchBlob(out.digest, out.size, local, stop).catch(() => false);
            }
          });
        }
        return result;
      }),
    };
    this.#ahead.set(found.key, ahead);
  }

  /** Looks a stale task up; undefined is a miss, and the task's outputs are stored after its run. */
  async lookup(node: Node, parts: FingerprintParts, signal: AbortSignal): Promise<CacheHit | undefined> {
    this.#keys.forget(node.name);
    const found = this.keyOf(node, parts);
    if ('none' in found) return undefined;
    const { key } = found;
    this.#missed.set(node.name, key);
    const { local, remote } = this.#options;
    let result = local.readAction(key);
    let from: CacheHit['from'] = 'local';
    const ahead = this.#ahead.get(key);
    if (!result && remote?.readable) {
      result = await take(ahead?.lookup, () => remote.getAction(key, signal).catch(() => undefined));
      from = 'remote';
    }
    if (!result || !this.#matches(node, result)) {
      this.#stats.misses++;
      return undefined;
    }
    const hit = result;
    return {
      from,
      restore: async (taskSignal) => {
        const started = Date.now();
        // The download started ahead, when it has started: its blobs are then in the local cache.
        await take(ahead?.download, async () => undefined);
        const restored = await this.#restore(node, hit, taskSignal);
        if (!restored) {
          this.#stats.misses++;
          return false;
        }
        this.#missed.delete(node.name);
        if (from === 'remote') {
          this.#stats.remoteHits++;
          try {
            local.writeAction(key, hit);
          } catch (error) {
            // The outputs are restored already: a local cache that cannot be written costs a warning.
            this.#warnOnce('store', `task '${node.name}': cannot keep the remote result in the local cache (${(error as Error).message})`);
          }
        } else this.#stats.localHits++;
        this.#stats.savedMs += Math.max(0, hit.durationMs - (Date.now() - started));
        return true;
      },
    };
  }

  /** The result names this task's outputs, in order: a key collision or a hand-edited entry does not. */
  #matches(node: Node, result: ActionResult): boolean {
    return (
      result.task === node.name &&
      result.outputs.length === node.outputs.length &&
      result.outputs.every((o, i) => o.key === portableOutput(node.outputKeys[i] ?? node.outputs[i]!, i))
    );
  }

  async #restore(node: Node, result: ActionResult, signal: AbortSignal): Promise<boolean> {
    const { local, remote } = this.#options;
    const missing = (out: CachedOutput) => {
      this.#warnOnce('missing', `task '${node.name}': the cache's result names a blob ${out.digest.slice(0, 12)} that is missing or does not match its digest; running the task`);
      return false;
    };
    try {
      // Files first, into the local cache; a folder that is not there yet comes straight from
      // its download into place (and into the local cache on the way): one pass, one hash.
      const download = new Set<CachedOutput>();
      for (const out of result.outputs) {
        if (local.hasBlob(out.digest, out.size)) continue;
        if (out.kind === 'dir' && remote) download.add(out);
        else if (!(remote && (await remote.fetchBlob(out.digest, out.size, local, signal)))) return missing(out);
      }
      for (const [i, out] of result.outputs.entries()) {
        if (!(await this.#restoreOutput(node.outputs[i]!, out, signal, download.has(out) ? remote : undefined))) return missing(out);
      }
      return true;
    } catch (error) {
      if (signal.aborted) throw error;
      if (error instanceof CorruptBlob) {
        // The result's blobs are dropped (the others may be as damaged, and unread yet): the run
        // that follows stores them afresh.
        for (const out of result.outputs) local.dropBlob(out.digest);
        this.#warnOnce('corrupt', `task '${node.name}': ${error.message}; running the task instead`);
        return false;
      }
      this.#warnOnce('restore', `task '${node.name}': cannot restore from the cache (${(error as Error).message}); running the task instead`);
      return false;
    }
  }

  /**
   * Puts one output in place atomically: built beside it under a temporary name, then renamed.
   * A folder is unpacked from the local cache, or from `remote` as it downloads; false when the
   * remote does not have its blob.
   */
  async #restoreOutput(file: string, out: CachedOutput, signal: AbortSignal, remote?: RemoteCache): Promise<boolean> {
    const { local } = this.#options;
    const madeFolder = fs.mkdirSync(path.dirname(file), { recursive: true });
    if (out.kind === 'file') {
      // A copy, never a hard link: a later edit of the output must not change the cached blob.
      if (fs.lstatSync(file, { throwIfNoEntry: false })?.isDirectory()) fs.rmSync(file, { recursive: true, force: true });
      await copyVerified(local.openBlob(out.digest), file, { expected: out, mode: out.mode, signal });
      return true;
    }
    const download = remote && (await remote.openBlob(out.digest, signal));
    if (remote && !download) return false;
    const kept = download ? local.beginBlob(out.digest) : undefined;
    const temp = besideName(file, 'restoring');
    fs.mkdirSync(temp);
    const tar = unpackInto(temp);
    try {
      const streamed = streamHashed(download ? download.body : local.openBlob(out.digest), tar.stream, signal, kept?.stream);
      const [moved] = await Promise.all([streamed, tar.done]);
      if (moved.digest !== out.digest || moved.size !== out.size) {
        throw new CorruptBlob(`blob ${out.digest.slice(0, 12)} is corrupt: its bytes hash to ${moved.digest.slice(0, 12)} (${moved.size} bytes)`);
      }
      kept?.commit(moved.size);
      const old = besideName(file, 'replaced');
      if (fs.lstatSync(file, { throwIfNoEntry: false })) fs.renameSync(file, old);
      fs.renameSync(temp, file);
      fs.rmSync(old, { recursive: true, force: true });
      return true;
    } catch (error) {
      kept?.discard();
      // A download that stalled is a blob the remote could not give: the task runs.
      if (download?.stalled() && !signal.aborted) return false;
      throw error;
    } finally {
      tar.kill();
      fs.rmSync(temp, { recursive: true, force: true });
      // A restore that did not finish leaves nothing behind, not even the folders made for it.
      if (!fs.existsSync(file)) removeEmptyFolders(path.dirname(file), madeFolder);
    }
  }

  /**
   * After a successful run: stores the task's outputs under its key in the local cache, and
   * queues their upload when the remote is writable (`uploadSignal`, the build's: an upload
   * outlives its task, and stops on Ctrl-C).
   */
  async save(node: Node, outputs: ReadonlyMap<string, OutputRecord>, durationMs: number, signal: AbortSignal, uploadSignal = signal): Promise<void> {
    const key = this.#missed.get(node.name);
    if (key === undefined) return;
    this.#missed.delete(node.name);
    const { local, remote } = this.#options;
    try {
      const stored: CachedOutput[] = [];
      for (const [i, file] of node.outputs.entries()) {
        const record = outputs.get(file);
        const outKey = portableOutput(node.outputKeys[i] ?? file, i);
        if (record?.kind === 'file') {
          const mode = fs.statSync(file).mode & 0o7777;
          // Checked against the digest the build just recorded: a file changed since is not stored.
          await local.addBlob(fs.createReadStream(file), { digest: record.digest, size: record.size }, signal);
          stored.push({ key: outKey, kind: 'file', digest: record.digest, size: record.size, mode });
        } else {
          const tar = packFolder(file);
          const [added] = await Promise.all([local.addBlob(tar.stream, undefined, signal), tar.done]);
          stored.push({ key: outKey, kind: 'dir', digest: added.digest, size: added.size });
        }
      }
      const result: ActionResult = { version: 1, task: node.name, outputs: stored, durationMs };
      local.writeAction(key, result);
      if (remote?.writable) this.#upload(node.name, key, result, uploadSignal);
    } catch (error) {
      if (signal.aborted) return;
      this.#warnOnce('store', `task '${node.name}': its outputs were not stored in the cache: ${(error as Error).message}`);
    }
  }

  /**
   * Sends a stored result to the remote cache in the background: the task's dependents do not
   * wait for it, the build's end does (finish). The result goes after its blobs, and only when
   * every one is there: a reader never finds a result whose blobs are missing, and an upload
   * stopped midway (Ctrl-C, a failure) leaves no result on the server.
   */
  #upload(task: string, key: string, result: ActionResult, signal: AbortSignal): void {
    const remote = this.#options.remote!;
    void this.#uploads.add(async () => {
      try {
        for (const out of result.outputs) {
          if (signal.aborted || !(await this.#sendBlob(remote, out, signal))) return;
        }
        await remote.putAction(key, result, signal);
      } catch (error) {
        if (signal.aborted) return;
        this.#warnOnce('upload', `task '${task}': its outputs were not uploaded to the remote cache: ${(error as Error).message}`);
      }
    });
  }

  #sendBlob(remote: RemoteCache, out: CachedOutput, signal: AbortSignal): Promise<boolean> {
    let sent = this.#sent.get(out.digest);
    if (!sent) {
      sent = remote.putBlob(out.digest, out.size, this.#options.local, signal);
      this.#sent.set(out.digest, sent);
    }
    return sent;
  }

  /** Uploads queued or under way. */
  get pendingUploads(): number {
    return this.#uploads.pending;
  }

  /**
   * The build's cache figures, once every task is settled: waits for the uploads still under way
   * (`waiting` is called when that takes longer than `noticeMs`), then trims the local cache to
   * its limit (never before: an upload reads its blob from there).
   */
  async finish(waiting?: (pending: number, shown: string) => void, noticeMs = 500): Promise<CacheStats> {
    this.#aheadStop.abort();
    await Promise.all([this.#lookups.settled(), this.#downloads.settled()]);
    if (this.#uploads.pending > 0) {
      const notice = setTimeout(() => waiting?.(this.#uploads.pending, this.#options.remote!.shown), noticeMs);
      await this.#uploads.settled();
      clearTimeout(notice);
    }
    try {
      this.#options.local.evict();
    } catch (error) {
      this.#options.warn(`cannot trim the local cache ${this.#options.local.dir}: ${(error as Error).message}`);
    }
    const remote = this.#options.remote;
    return { ...this.#stats, bytesDown: this.#stats.bytesDown + (remote?.bytesDown ?? 0), bytesUp: this.#stats.bytesUp + (remote?.bytesUp ?? 0) };
  }
}

/** Removes `dir` and its parents up to `top` (the first folder mkdirSync made), while they are empty. */
function removeEmptyFolders(dir: string, top: string | undefined): void {
  if (top === undefined) return;
  for (let folder = dir; folder.startsWith(top); folder = path.dirname(folder)) {
    try {
      fs.rmdirSync(folder);
    } catch {
      return;
    }
    if (folder === top) return;
  }
}

/** Queues work ahead of a task's turn; it does nothing if the task took it over before it started. */
function aheadJob<T>(queue: Background, job: () => Promise<T | undefined>): AheadJob<T> {
  const entry: AheadJob<T> = { started: false, taken: false, done: Promise.resolve(undefined) };
  entry.done = queue
    .add(async () => {
      if (entry.taken) return undefined;
      entry.started = true;
      return job();
    })
    .catch(() => undefined);
  return entry;
}

/** What work started ahead gave, once it ends; when it has not started, the task does it itself (`now`). */
async function take<T>(ahead: AheadJob<T> | undefined, now: () => Promise<T | undefined>): Promise<T | undefined> {
  if (ahead?.started) return ahead.done;
  if (ahead) ahead.taken = true;
  return now();
}
