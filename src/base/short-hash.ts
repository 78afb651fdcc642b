// A short name for a key, for file names (a snapshot per set of targets, a load record per command
// line). Not a digest: the files so named hold their key and are compared with it, so two keys
// that share a name only cost a miss. It spares a no-op loading node:crypto (15 ms on Node 20).

/** 16 hex digits: two 32-bit FNV-1a hashes of the text, with different offsets. */
export function shortHash(text: string): string {
  let a = 0x811c9dc5;
  let b = 0x01000193 ^ 0x5bd1e995;
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    a = Math.imul(a ^ code, 0x01000193);
    b = Math.imul(b ^ code, 0x01000193) ^ (b >>> 15);
  }
  return (a >>> 0).toString(16).padStart(8, '0') + (b >>> 0).toString(16).padStart(8, '0');
}
