// The remote cache: Bazel's HTTP cache protocol (GET, PUT and HEAD of URL/cas/SHA256 for blobs
// and URL/ac/KEY for task results), so nginx's WebDAV module, bazel-remote, or any HTTP store
// that fronts one serves it. A server that is down, slow or refusing costs one warning, and the
// build goes on with the local cache: the remote is then left alone for the rest of the build.
import fs from 'node:fs';
import { Readable } from 'node:stream';
import { parseActionResult, type ActionResult } from './action-result.ts';
import { authorization, shownUrl } from './credentials.ts';
import type { LocalCache } from './local-cache.ts';
import type { CacheMode } from './settings.ts';


export interface RemoteOptions {
  url: URL;
  mode: CacheMode;
  env: NodeJS.ProcessEnv;
  /** Milliseconds to wait for a response, or between two chunks of a body. */
  timeoutMs: number;
  warn(message: string): void;
}

export class RemoteCache {
  readonly shown: string;
  #base: string;
  #auth: string | undefined;
  #options: RemoteOptions;
  #down = false;
  #writesRefused = false;
  bytesDown = 0;
  bytesUp = 0;

  constructor(options: RemoteOptions) {
    this.#options = options;
    this.shown = shownUrl(options.url);
    this.#base = this.shown;
    this.#auth = authorization(options.url, options.env);
  }

  get readable(): boolean {
    return !this.#down;
  }

  get writable(): boolean {
    return !this.#down && !this.#writesRefused && this.#options.mode === 'readwrite';
  }

  /** A task result, or undefined on a miss or when the server cannot be used. */
  async getAction(key: string, signal: AbortSignal): Promise<ActionResult | undefined> {
    if (this.#down) return undefined;
    const idle = new AbortController();
    const response = await this.#request('GET', `ac/${key}`, AbortSignal.any([signal, idle.signal]));
    if (!response) return undefined;
    // A server may send the headers and then stall: the (small) body gets a silence limit too.
    const timer = setTimeout(() => idle.abort(), this.#options.timeoutMs);
    let bytes: Buffer;
    try {
      bytes = Buffer.from(await response.arrayBuffer());
    } catch (error) {
      if (signal.aborted) throw error;
      return this.#giveUp(idle.signal.aborted ? `no answer within ${this.#options.timeoutMs} ms` : (error as Error).message);
    } finally {
      clearTimeout(timer);
    }
    this.bytesDown += bytes.length;
    return parseActionResult(bytes);
  }

  /**
   * A blob's bytes as they arrive (counted in bytesDown); undefined when the server does not have
   * it or cannot be used. A body that stops flowing for the timeout is a slow server: the stream
   * fails, `stalled()` says so, and the server is given up like a dead one.
   */
  async openBlob(digest: string, signal: AbortSignal): Promise<{ body: Readable; stalled(): boolean } | undefined> {
    if (this.#down) return undefined;
    const idle = new AbortController();
    const response = await this.#request('GET', `cas/${digest}`, AbortSignal.any([signal, idle.signal]));
    if (!response?.body) return undefined;
    const body = Readable.fromWeb(response.body as import('node:stream/web').ReadableStream);
    const timer = setTimeout(() => {
      if (!signal.aborted) this.#giveUp(`no data for ${this.#options.timeoutMs} ms`);
      idle.abort();
    }, this.#options.timeoutMs);
    body.on('data', (chunk: Buffer) => {
      this.bytesDown += chunk.length;
      timer.refresh();
    });
    body.once('close', () => clearTimeout(timer));
    return { body, stalled: () => idle.signal.aborted && !signal.aborted };
  }

  /**
   * Downloads a blob into the local cache, its digest checked on the way (a corrupt blob throws
   * CorruptBlob). False when the server does not have it or cannot be used.
   */
  async fetchBlob(digest: string, size: number, local: LocalCache, signal: AbortSignal): Promise<boolean> {
    const download = await this.openBlob(digest, signal);
    if (!download) return false;
    try {
      await local.addBlob(download.body, { digest, size }, signal);
      return true;
    } catch (error) {
      if (download.stalled()) return false;
      throw error;
    }
  }

  /** Uploads a blob from the local cache unless the server has it; true once the server has it. */
  async putBlob(digest: string, size: number, local: LocalCache, signal: AbortSignal): Promise<boolean> {
    if (!this.writable) return false;
    const head = await this.#request('HEAD', `cas/${digest}`, signal);
    if (head) return true;
    if (!this.writable) return false;
    if (!(await this.#request('PUT', `cas/${digest}`, signal, { body: fs.createReadStream(local.blobPath(digest)), length: size }))) return false;
    this.bytesUp += size;
    return true;
  }

  async putAction(key: string, result: ActionResult, signal: AbortSignal): Promise<void> {
    if (!this.writable) return;
    const bytes = Buffer.from(JSON.stringify(result));
    if (await this.#request('PUT', `ac/${key}`, signal, { body: bytes, length: bytes.length })) this.bytesUp += bytes.length;
  }

  /**
   * One request: the response on success, undefined on a 404 or when the server is given up.
   * The timeout is for silence, not for the whole transfer: it runs until the response's headers
   * come, restarted by every chunk of an upload (a 300 MB rootfs takes longer than any fixed
   * limit); a download's body is watched by fetchBlob.
   */
  async #request(method: 'GET' | 'HEAD' | 'PUT', path: string, signal: AbortSignal, upload?: { body: Buffer | Readable; length: number }): Promise<Response | undefined> {
    const silence = new AbortController();
    const timer = setTimeout(() => silence.abort(), this.#options.timeoutMs);
    const headers: Record<string, string> = {};
    if (this.#auth) headers.authorization = this.#auth;
    if (upload) headers['content-length'] = String(upload.length);
    let body: BodyInit | undefined;
    if (upload?.body instanceof Readable) {
      upload.body.on('data', () => timer.refresh());
      body = Readable.toWeb(upload.body) as unknown as ReadableStream;
    } else body = upload?.body as unknown as BodyInit | undefined;
    let response: Response;
    try {
      response = await fetch(`${this.#base}/${path}`, {
        method,
        headers,
        body,
        signal: AbortSignal.any([signal, silence.signal]),
        redirect: 'follow',
        ...(upload ? { duplex: 'half' } : {}),
      } as RequestInit);
    } catch (error) {
      if (signal.aborted) throw error;
      if (silence.signal.aborted) return this.#giveUp(`no answer within ${this.#options.timeoutMs} ms`);
      const cause = (error as { cause?: { code?: string; message?: string } }).cause;
      return this.#giveUp(cause?.code ?? cause?.message ?? (error as Error).message);
    } finally {
      clearTimeout(timer);
    }
    if (response.ok) return response;
    await response.body?.cancel().catch(() => {});
    if (response.status === 404) return undefined;
    if (method === 'PUT' && response.status < 500) {
      // Refused writes (no rights, too large, read-only): reads go on. Said once, though
      // several uploads run at a time and each hears the refusal.
      if (this.#writesRefused) return undefined;
      this.#writesRefused = true;
      this.#options.warn(`the remote cache ${this.shown} refuses writes (HTTP ${response.status} for PUT ${path.slice(0, 3)}…); not uploading for the rest of this build`);
      return undefined;
    }
    return this.#giveUp(`HTTP ${response.status} for ${method} ${path.slice(0, 3)}…`);
  }

  #giveUp(why: string): undefined {
    if (!this.#down) {
      this.#down = true;
      this.#options.warn(`the remote cache ${this.shown} cannot be used (${why}); going on with the local cache only`);
    }
    return undefined;
  }
}
