// The one content digest of the engine: fingerprints, the action keys of the cache and the
// recorded Taskfile code all name a text by it.
import { createHash } from 'node:crypto';

/** sha256 of a text, in hex. */
export function sha256(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}
