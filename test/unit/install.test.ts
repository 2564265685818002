import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createReadStream, mkdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { createGunzip } from 'node:zlib';
import { ConfigError } from '../../src/config.js';
import { checkDigest, expectedSha256From, sha256FromDigest, sha256Hex, sha256OfFile } from '../../src/install/digest.js';
import { releaseAssetFor } from '../../src/install/github.js';
import { archOf } from '../../src/install/install-k3s.js';
import { imageTagFor, pickPlatform, registryEndpoint } from '../../src/install/oci.js';
import { extractFileFromTar, normalizeTarPath, parsePaxRecords, parseTarHeader, parseTarNumber } from '../../src/install/tar.js';
import { configFromOptionEnv, optionEnvName, writeConfigFile } from '../../src/install/write-config.js';
import { bearerTokenUrl, parseChallenges } from '../../src/install/www-authenticate.js';
import { tempDir } from './helpers/tempDir.js';

function scratch(): string {
  return tempDir('install');
}

/** Builds a tar with GNU tar (a real archiver, not our own writer) from files laid out by `fill`. */
function gnuTar(fill: (root: string) => void, flags: string[] = []): string {
  const dir = scratch();
  const root = join(dir, 'root');
  mkdirSync(root);
  fill(root);
  const archive = join(dir, 'layer.tar');
  execFileSync('tar', ['-C', root, ...flags, '-cf', archive, '.']);
  return archive;
}

test('tar: extracts bin/k3s from a GNU tar, with ./ prefixes and other entries around it', async () => {
  const archive = gnuTar((root) => {
    mkdirSync(join(root, 'bin'));
    mkdirSync(join(root, 'etc'));
    writeFileSync(join(root, 'etc', 'os-release'), 'ID=test\n');
    writeFileSync(join(root, 'bin', 'k3s'), Buffer.alloc(70_000, 7));
    symlinkSync('k3s', join(root, 'bin', 'kubectl'));
  });
  const dest = `${archive}.out`;
  const result = await extractFileFromTar(createReadStream(archive), 'bin/k3s', dest);
  assert.deepEqual(result, { found: true });
  assert.deepEqual(readFileSync(dest), Buffer.alloc(70_000, 7));
});

test('tar: pax headers (long names) are honoured', async () => {
  const longDir = 'd'.repeat(120);
  const archive = gnuTar((root) => {
    mkdirSync(join(root, longDir));
    writeFileSync(join(root, longDir, 'k3s'), 'pax payload');
  }, ['--format=pax']);
  const dest = `${archive}.out`;
  assert.deepEqual(await extractFileFromTar(createReadStream(archive), `${longDir}/k3s`, dest), { found: true });
  assert.equal(readFileSync(dest, 'utf8'), 'pax payload');
});

test('tar: GNU long names (type L) are honoured', async () => {
  const longName = `${'n'.repeat(150)}.bin`;
  const archive = gnuTar((root) => writeFileSync(join(root, longName), 'gnu payload'), ['--format=gnu']);
  const dest = `${archive}.out`;
  assert.deepEqual(await extractFileFromTar(createReadStream(archive), longName, dest), { found: true });
  assert.equal(readFileSync(dest, 'utf8'), 'gnu payload');
});

test('tar: gzip layers read through gunzip; a missing path is reported as not found', async () => {
  const dir = scratch();
  writeFileSync(join(dir, 'other'), 'x');
  const archive = join(dir, 'layer.tgz');
  execFileSync('tar', ['-C', dir, '-czf', archive, 'other']);
  assert.deepEqual(await extractFileFromTar(createReadStream(archive).pipe(createGunzip()), 'bin/k3s', join(dir, 'out')), { found: false });
  rmSync(dir, { recursive: true });
});

test('tar: the wanted path as a symlink is reported with its type, not extracted', async () => {
  const archive = gnuTar((root) => {
    mkdirSync(join(root, 'bin'));
    symlinkSync('/elsewhere', join(root, 'bin', 'k3s'));
  });
  assert.deepEqual(await extractFileFromTar(createReadStream(archive), 'bin/k3s', `${archive}.out`), { found: false, foundType: 'symlink' });
});

test('tar: a corrupt header is an error, not a silent miss', async () => {
  const archive = gnuTar((root) => writeFileSync(join(root, 'f'), 'data'));
  const bytes = readFileSync(archive);
  bytes[0] ^= 0xff;
  await assert.rejects(extractFileFromTar(Readable.from([bytes]), 'f', `${archive}.out`), /checksum mismatch/);
});

test('tar: a stream cut inside an entry is an error', async () => {
  const archive = gnuTar((root) => writeFileSync(join(root, 'f'), Buffer.alloc(5000, 1)));
  const bytes = readFileSync(archive).subarray(0, 2048);
  await assert.rejects(extractFileFromTar(Readable.from([bytes]), 'other', `${archive}.out`), /ends in the middle/);
});

test('tar: numeric fields in octal and base-256; pax records; path normalisation', () => {
  assert.equal(parseTarNumber(Buffer.from('00000001750\0')), 1000);
  assert.equal(parseTarNumber(Buffer.from([0x80, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x01, 0x00])), 256);
  assert.throws(() => parseTarNumber(Buffer.from('12x\0')), /bad numeric field/);
  assert.deepEqual(parsePaxRecords(Buffer.from('16 path=bin/k3s\n13 size=1234\n')), { path: 'bin/k3s', size: '1234' });
  assert.equal(normalizeTarPath('./bin/k3s'), 'bin/k3s');
  assert.equal(normalizeTarPath('/bin/k3s'), 'bin/k3s');
  assert.equal(normalizeTarPath('bin/'), 'bin');
  assert.equal(parseTarHeader(Buffer.alloc(512)), undefined);
});

test('digest: sha256sum lines are matched by exact file name, text or binary mode', () => {
  const a = 'a'.repeat(64);
  const b = 'B'.repeat(64);
  const sums = `${a}  k3s-airgap-images-amd64.tar\n${b} *k3s\n${'c'.repeat(64)}  k3s-arm64\n`;
  assert.equal(expectedSha256From(sums, 'k3s'), 'b'.repeat(64));
  assert.equal(expectedSha256From(sums, 'k3s-arm64'), 'c'.repeat(64));
  assert.throws(() => expectedSha256From(sums, 'k3s-armhf'), /no sha256 line for k3s-armhf/);
  assert.throws(() => expectedSha256From('deadbeef  k3s\n', 'k3s'), /no sha256 line/);
});

test('digest: OCI digests must be sha256 with 64 hex digits; mismatches name both values', async () => {
  assert.equal(sha256FromDigest(`sha256:${'0'.repeat(64)}`), '0'.repeat(64));
  assert.throws(() => sha256FromDigest(`sha512:${'0'.repeat(128)}`), /unsupported or malformed digest/);
  assert.throws(() => sha256FromDigest('sha256:../../etc/passwd'), /malformed/);
  assert.throws(() => checkDigest('blob x', 'a', 'b'), /blob x: sha256 mismatch, expected a, got b/);
  const dir = scratch();
  writeFileSync(join(dir, 'f'), 'hello');
  assert.equal(await sha256OfFile(join(dir, 'f')), sha256Hex('hello'));
  assert.equal(await sha256OfFile(join(dir, 'missing')), undefined);
});

test('WWW-Authenticate: Docker Hub style Bearer challenge', () => {
  const [challenge] = parseChallenges('Bearer realm="https://auth.docker.io/token",service="registry.docker.io",scope="repository:rancher/k3s:pull"');
  assert.deepEqual(challenge, {
    scheme: 'bearer',
    params: { realm: 'https://auth.docker.io/token', service: 'registry.docker.io', scope: 'repository:rancher/k3s:pull' },
  });
  assert.equal(
    bearerTokenUrl(challenge, 'ignored'),
    'https://auth.docker.io/token?service=registry.docker.io&scope=repository%3Arancher%2Fk3s%3Apull',
  );
});

test('WWW-Authenticate: several challenges, unquoted and escaped values, missing scope', () => {
  const challenges = parseChallenges('Basic realm="reg \\"x\\"", Bearer realm=https://t.example/token, service=s');
  assert.deepEqual(challenges, [
    { scheme: 'basic', params: { realm: 'reg "x"' } },
    { scheme: 'bearer', params: { realm: 'https://t.example/token', service: 's' } },
  ]);
  assert.equal(bearerTokenUrl(challenges[1], 'repository:rancher/k3s:pull'), 'https://t.example/token?service=s&scope=repository%3Arancher%2Fk3s%3Apull');
  assert.throws(() => bearerTokenUrl({ scheme: 'bearer', params: {} }, 's'), /without a realm/);
  assert.throws(() => bearerTokenUrl({ scheme: 'bearer', params: { realm: 'file:///etc/passwd' } }, 's'), /not an http/);
  assert.throws(() => parseChallenges('Bearer realm="unterminated'), /unreadable WWW-Authenticate/);
});

test('OCI: endpoints, tags and platform choice', () => {
  assert.equal(registryEndpoint('docker.io'), 'registry-1.docker.io');
  assert.equal(registryEndpoint('mirror.gcr.io'), 'mirror.gcr.io');
  assert.equal(imageTagFor('v1.33.5+k3s1'), 'v1.33.5-k3s1');
  const index = {
    manifests: [
      { digest: 'sha256:att', platform: { os: 'unknown', architecture: 'unknown' } },
      { digest: 'sha256:arm7', platform: { os: 'linux', architecture: 'arm', variant: 'v7' } },
      { digest: 'sha256:arm64', platform: { os: 'linux', architecture: 'arm64', variant: 'v8' } },
      { digest: 'sha256:amd64', platform: { os: 'linux', architecture: 'amd64' } },
    ],
  };
  assert.equal(pickPlatform(index, 'amd64').digest, 'sha256:amd64');
  assert.equal(pickPlatform(index, 'arm64').digest, 'sha256:arm64');
  assert.throws(() => pickPlatform(index, 's390x'), /no linux\/s390x manifest \(it offers: unknown\/unknown, linux\/arm, linux\/arm64, linux\/amd64\)/);
});

test('architectures and release asset names follow k3s install.sh', () => {
  assert.equal(archOf('x64'), 'amd64');
  assert.equal(archOf('x86_64'), 'amd64');
  assert.equal(archOf('aarch64'), 'arm64');
  assert.throws(() => archOf('riscv64'), /unsupported architecture riscv64; allowed: x86_64 \(amd64\), aarch64 \(arm64\)/);
  assert.equal(releaseAssetFor('amd64'), 'k3s');
  assert.equal(releaseAssetFor('arm64'), 'k3s-arm64');
});

test('write-config: option env names follow the devcontainer mangling', () => {
  assert.equal(optionEnvName('waitTimeout'), 'WAITTIMEOUT');
  assert.equal(optionEnvName('binaryPath'), 'BINARYPATH');
});

test('write-config: the options the devcontainer CLI passes become typed config values', () => {
  const config = configFromOptionEnv({
    VERSION: 'v1.33.5+k3s1', MODE: 'control-plane', AUTOSTART: 'false', WAITTIMEOUT: '90',
    REGISTRIES: 'docker.io, mirror.gcr.io', BINARYPATH: '', DISABLE: 'traefik,servicelb', DATADIR: '/var/lib/rancher/k3s',
    UNRELATED: 'ignored',
  });
  assert.deepEqual(config, {
    version: 'v1.33.5+k3s1', mode: 'control-plane', autoStart: false, waitTimeout: 90,
    registries: ['docker.io', 'mirror.gcr.io'], binaryPath: '', disable: ['traefik', 'servicelb'], dataDir: '/var/lib/rancher/k3s',
  });
  assert.deepEqual(configFromOptionEnv({}), {});
});

test('write-config: every string option rejects injection, and every bad option is named in one error', () => {
  const attempts: Record<string, string> = {
    VERSION: 'v1.30.0+k3s1; touch /pwned',
    MODE: 'auto$(touch /pwned)',
    REGISTRIES: 'docker.io;touch /pwned',
    BINARYPATH: '/tmp/k3s`touch /pwned`',
    DISABLE: 'traefik --token x',
    DATADIR: '/var/lib/k3s\n--flag',
    RELEASEURL: 'https://example.com/$(id)',
    CHANNELURL: 'https://example.com/ x',
  };
  try {
    configFromOptionEnv(attempts);
    assert.fail('expected a ConfigError');
  } catch (error) {
    assert.ok(error instanceof ConfigError);
    for (const key of ['version', 'mode', 'registries', 'binaryPath', 'disable', 'dataDir', 'releaseUrl', 'channelUrl']) {
      assert.match(error.message, new RegExp(`invalid value for ${key}: .*\\(from feature option ${key}, env ${optionEnvName(key as never)}\\); allowed: `));
    }
  }
});

test('write-config: the file is written whole through a rename', async () => {
  const dir = scratch();
  const file = join(dir, 'etc', 'config.json');
  await writeConfigFile(file, { mode: 'server' });
  assert.deepEqual(JSON.parse(readFileSync(file, 'utf8')), { mode: 'server' });
  await writeConfigFile(file, { mode: 'auto' });
  assert.deepEqual(JSON.parse(readFileSync(file, 'utf8')), { mode: 'auto' });
  assert.deepEqual(execFileSync('find', [join(dir, 'etc'), '-type', 'f']).toString().trim().split('\n'), [file]);
});
