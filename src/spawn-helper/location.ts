// Where the spawn helper's source and binary live, from the package's root: two folders up
// from this module whether it runs from src/ or precompiled. The binary is built per checkout
// under node_modules/.cache, where `npm ci` removes it and `prepare` builds it again
// (build.js, which names the same two paths).
import { fileURLToPath } from 'node:url';

const packageRoot = new URL('../../', import.meta.url);
export const sourcePath = fileURLToPath(new URL('src/spawn-helper/spawn-helper.c', packageRoot));
export const binaryPath = fileURLToPath(new URL('node_modules/.cache/execd-builder/spawn-helper', packageRoot));
