// Where the spawn helper's source and binary live; plain JavaScript so that the `prepare`
// script can use it before anything else is loaded. The binary is built per checkout,
// under node_modules/.cache, where `npm ci` removes it and `prepare` builds it again.
import { fileURLToPath } from 'node:url';

export const sourcePath = fileURLToPath(new URL('./spawn-helper.c', import.meta.url));
export const binaryPath = fileURLToPath(new URL('../../node_modules/.cache/execd-builder/spawn-helper', import.meta.url));
