// Where the spawn helper's source and binary live, from the package's root. This module runs
// from src/launch/spawn-helper/ (through jiti, after an edit) or bundled into a chunk in dist/. The
// binary is built per checkout under node_modules/.cache, where `npm ci` removes it and
// `prepare` builds it again (build.js, which names the same paths).
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = new URL('.', import.meta.url);
const packageRoot = new URL(here.pathname.endsWith('/src/launch/spawn-helper/') ? '../../../' : '../', here);
export const sourcePath = fileURLToPath(new URL('src/launch/spawn-helper/spawn-helper.c', packageRoot));
export const binaryFolder = fileURLToPath(new URL('node_modules/.cache/execd-builder/', packageRoot));

/**
 * The binary built from the source as it is now, named by the source's digest: checkouts that
 * share one node_modules never run each other's helper, and an edited source is never answered
 * by a binary of another protocol. Undefined without the source.
 */
export function binaryPath(): string | undefined {
  let source: Buffer;
  try {
    source = fs.readFileSync(sourcePath);
  } catch {
    return undefined;
  }
  return path.join(binaryFolder, `spawn-helper-${createHash('sha256').update(source).digest('hex').slice(0, 16)}`);
}
