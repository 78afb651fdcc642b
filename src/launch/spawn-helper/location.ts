// Where the spawn helper's source and binary live, from the package's root. This module runs
// from src/launch/spawn-helper/ (through jiti, after an edit) or bundled into a chunk in dist/. The
// binary is built per checkout under node_modules/.cache, where `npm ci` removes it and
// `prepare` builds it again (build.js, which names the same two paths).
import { fileURLToPath } from 'node:url';

const here = new URL('.', import.meta.url);
const packageRoot = new URL(here.pathname.endsWith('/src/launch/spawn-helper/') ? '../../../' : '../', here);
export const sourcePath = fileURLToPath(new URL('src/launch/spawn-helper/spawn-helper.c', packageRoot));
export const binaryPath = fileURLToPath(new URL('node_modules/.cache/execd-builder/spawn-helper', packageRoot));
