// The Go tests of execd and execc (protocol, server, client), run as part of npm test.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { test } from 'node:test';
import { repo } from './helpers/cli-rig.ts';

const go = spawnSync('go', ['version'], { encoding: 'utf8' });
const noGo = go.status !== 0 ? 'go is not installed (apt-get install golang-go; .ci/run does)' : false;

test('go vet and go test pass in execd/', { skip: noGo }, () => {
  const cwd = path.join(repo, 'execd');
  const env = { ...process.env, GOFLAGS: '-mod=mod', CGO_ENABLED: '0' };
  const vet = spawnSync('go', ['vet', './...'], { cwd, env, encoding: 'utf8' });
  assert.equal(vet.status, 0, vet.stdout + vet.stderr);
  const result = spawnSync('go', ['test', './...'], { cwd, env, encoding: 'utf8', timeout: 300_000 });
  assert.equal(result.status, 0, result.stdout + result.stderr);
  assert.match(result.stdout, /ok\s+execd-builder\/execd\/server/);
});
