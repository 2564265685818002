import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createReadStream, existsSync, mkdirSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { createGunzip } from 'node:zlib';
import { ConfigError, DEFAULT_CONFIG } from '../../src/config.js';
import { checkDigest, expectedSha256From, sha256FromDigest, sha256Hex, sha256OfFile } from '../../src/install/digest.js';
import { releaseAssetFor } from '../../src/install/github.js';
import { BodyTooLargeError, HttpClient, InsecureUrlError, isInsecureAllowed } from '../../src/install/http.js';
import { archOf, checkElf, pinsFor } from '../../src/install/install-k3s.js';
import { KNOWN_RELEASES } from '../../src/install/known-digests.js';
import { RegistryClient, imageTagFor, pickPlatform, registryEndpoint } from '../../src/install/oci.js';
import { TarError, extractFileFromTar, normalizeTarPath, parsePaxRecords, parseTarHeader, parseTarNumber } from '../../src/install/tar.js';
import { configFromOptionEnv, optionEnvName, writeConfigFile } from '../../src/install/write-config.js';
import { bearerTokenUrl, parseChallenges } from '../../src/install/www-authenticate.js';
import { REPO } from './helpers/repo.js';
import { padding, paxRecord, tarHeader } from './helpers/tarWriter.js';
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

// ---- limits, pins and trust (issue 8) ----

/** Runs `body` (an ES module body with `extractFileFromTar`, `tarHeader` and `dest` in scope) in a fresh Node process and returns its JSON line. */
function inChildProcess(body: string): { outcome: string; ms: number; maxRssMiB: number; destBytes: number } {
  const dir = scratch();
  const script = join(dir, 'bomb.mts');
  writeFileSync(script, `
    import { statSync } from 'node:fs';
    import { extractFileFromTar } from '${REPO}/src/install/tar.ts';
    import { tarHeader } from '${REPO}/test/unit/helpers/tarWriter.ts';
    const dest = ${JSON.stringify(join(dir, 'out'))};
    const start = Date.now();
    let outcome = 'extracted';
    try { ${body} } catch (error) { outcome = error.name + ': ' + error.message; }
    let destBytes = -1;
    try { destBytes = statSync(dest).size; } catch {}
    console.log(JSON.stringify({ outcome, ms: Date.now() - start, maxRssMiB: Math.round(process.resourceUsage().maxRSS / 1024), destBytes }));
  `);
  const out = execFileSync(process.execPath, ['--import', 'tsx', script], { timeout: 60_000, encoding: 'utf8' });
  return JSON.parse(out.trim().split('\n').pop() ?? '{}');
}

/** A tar stream: one header claiming `claimed` bytes, then zeros produced on demand (never held in memory). */
const ZERO_SOURCE = `
  async function* claims(header, claimed) {
    yield header;
    const zeros = Buffer.alloc(1 << 16);
    for (let sent = 0; sent < claimed + 1024; sent += zeros.length) yield zeros;
  }`;

test('tar bomb: a pax header claiming 1 GiB fails at once with bounded memory, reading none of it', () => {
  const baseline = inChildProcess(`await Promise.resolve();`);
  const result = inChildProcess(`${ZERO_SOURCE}
    await extractFileFromTar(claims(tarHeader({ name: 'PaxHeader', type: 'x', size: 1 << 30 }), 1 << 30), 'bin/k3s', dest);`);
  console.log(`pax bomb: ${JSON.stringify(result)}; baseline RSS ${baseline.maxRssMiB} MiB`);
  assert.match(result.outcome, /^TarError: tar: a pax header of 1073741824 bytes, more than the 1048576-byte limit for such headers$/);
  assert.ok(result.ms < 1000, `failed after ${result.ms} ms`);
  assert.ok(result.maxRssMiB < baseline.maxRssMiB + 40, `max RSS ${result.maxRssMiB} MiB against a baseline of ${baseline.maxRssMiB} MiB`);
});

test('tar bomb: a GNU long name claiming 1 GiB fails the same way', () => {
  const result = inChildProcess(`${ZERO_SOURCE}
    await extractFileFromTar(claims(tarHeader({ name: '././@LongLink', type: 'L', size: 1 << 30 }), 1 << 30), 'bin/k3s', dest);`);
  assert.match(result.outcome, /^TarError: tar: a gnu-longname header of 1073741824 bytes, more than the 1048576-byte limit/);
  assert.ok(result.ms < 1000, `failed after ${result.ms} ms`);
});

test('tar bomb: a 3 GiB bin/k3s fails before a byte is written; a bin/k3s just under the cap is written', () => {
  const result = inChildProcess(`${ZERO_SOURCE}
    await extractFileFromTar(claims(tarHeader({ name: 'bin/k3s', type: '0', size: 3 * 2 ** 30 }), 3 * 2 ** 30), 'bin/k3s', dest);`);
  console.log(`member bomb: ${JSON.stringify(result)}`);
  assert.match(result.outcome, /^TarError: tar: bin\/k3s is 3221225472 bytes, more than the 536870912-byte limit for this file$/);
  assert.equal(result.destBytes, -1, 'no output file was created');
  assert.ok(result.ms < 1000, `failed after ${result.ms} ms`);
  const small = inChildProcess(`${ZERO_SOURCE}
    const source = claims(tarHeader({ name: 'bin/k3s', type: '0', size: 5000 }), 5000 - 1024 + 512);
    await extractFileFromTar(source, 'bin/k3s', dest, { maxFileBytes: 5000 });`);
  assert.equal(small.destBytes, 5000);
});

test('tar: a pax size that is not a plain decimal is a TarError', async () => {
  const pax = Buffer.from(paxRecord('size', '1e9'));
  const archive = Buffer.concat([tarHeader({ name: 'p', type: 'x', size: pax.length }), pax, padding(pax.length), Buffer.alloc(1024)]);
  await assert.rejects(extractFileFromTar(Readable.from([archive]), 'bin/k3s', join(scratch(), 'out')), TarError);
});

/** A one-shot registry on loopback over plain http (allowed for its host), serving `routes` by path. */
async function withRegistry(routes: Record<string, Buffer>, run: (host: string, served: string[]) => Promise<void>): Promise<void> {
  const served: string[] = [];
  const server = createServer((req, res) => {
    served.push(req.url ?? '');
    const body = routes[req.url ?? ''];
    if (!body) return void res.writeHead(404).end();
    res.writeHead(200, { 'content-length': body.length });
    res.end(body);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const host = `127.0.0.1:${(server.address() as AddressInfo).port}`;
  try {
    await run(host, served);
  } finally {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  }
}

function quietClient(insecureHosts: string[], signal?: AbortSignal): HttpClient {
  return new HttpClient({ attempts: 1, firstDelayMs: 1, deadline: Date.now() + 30_000 }, () => undefined, { insecureHosts, signal });
}

test('OCI: a blob larger than its descriptor declares stops at the declared size, whatever its digest', async () => {
  const big = Buffer.alloc(8 * 1024 * 1024, 1);
  const digest = `sha256:${sha256Hex(big)}`;
  await withRegistry({ [`/v2/rancher/k3s/blobs/${digest}`]: big }, async (host) => {
    const http = quietClient([host]);
    try {
      const file = join(scratch(), 'blob');
      await assert.rejects(
        new RegistryClient(http, host, 'rancher/k3s', () => undefined).blob({ digest, size: 1000 }, file),
        (error: unknown) => error instanceof BodyTooLargeError && /sent more than 1000 bytes, the limit for blob sha256:[0-9a-f]{64} \(its descriptor declares 1000 bytes\)/.test(error.message),
      );
      // The write stream opens its file asynchronously; when the first chunk already passes the limit, the pipeline
      // is torn down before that open and no file exists, which is zero bytes written.
      const written = existsSync(file) ? statSync(file).size : 0;
      assert.ok(written <= 1000, `wrote ${written} bytes`);
    } finally {
      await http.close();
    }
  });
});

test('OCI: a descriptor declaring more than a k3s layer can be is refused before the download', async () => {
  const http = quietClient([]);
  try {
    await assert.rejects(
      new RegistryClient(http, 'registry.invalid', 'rancher/k3s', () => undefined).blob({ digest: `sha256:${'0'.repeat(64)}`, size: 2 ** 40 }, join(scratch(), 'blob')),
      /declares 1099511627776 bytes, more than the 1073741824-byte limit for a k3s image layer/,
    );
  } finally {
    await http.close();
  }
});

test('http: plain http is refused unless its host is listed, and then nothing reaches the server', async () => {
  await withRegistry({ '/doc': Buffer.from('hello') }, async (host, served) => {
    const refusing = quietClient(['other.example']);
    try {
      await assert.rejects(refusing.getText(`http://${host}/doc`), (error: unknown) =>
        error instanceof InsecureUrlError && error.message.includes(`refusing plain http http://${host}/doc: only https is used unless the host is listed in the insecureRegistries option`));
      assert.deepEqual(served, []);
    } finally {
      await refusing.close();
    }
    const allowing = quietClient([host]);
    try {
      assert.equal(await allowing.getText(`http://${host}/doc`), 'hello');
    } finally {
      await allowing.close();
    }
    assert.equal(isInsecureAllowed(new URL(`http://${host}/x`), ['127.0.0.1']), true, 'a host without a port allows every port');
    assert.equal(isInsecureAllowed(new URL('http://127.0.0.1:81/x'), ['127.0.0.1:80']), false);
  });
});

test('http: documents are size-capped, and an aborted signal ends a request with its reason', async () => {
  await withRegistry({ '/big': Buffer.alloc(5 * 1024 * 1024, 0x41) }, async (host) => {
    const http = quietClient([host]);
    try {
      await assert.rejects(http.getText(`http://${host}/big`), BodyTooLargeError);
    } finally {
      await http.close();
    }
    const controller = new AbortController();
    const reason = new Error('the install was interrupted');
    controller.abort(reason);
    const aborted = quietClient([host], controller.signal);
    try {
      await assert.rejects(aborted.getText(`http://${host}/big`), (error: unknown) => error === reason);
    } finally {
      await aborted.close();
    }
  });
});

test('pins: the table and the options decide, per version and arch, never the mirror', () => {
  const none = { sha256: '', imageDigest: '' };
  assert.deepEqual(pinsFor(none, 'v1.36.4+k3s1', 'amd64'), {
    binary: { sha256: '835873f37245fc615f547a2fe2af9402a347875f13fa64a1f136de644955ea3f', origin: "the feature's pinned digest for k3s v1.36.4+k3s1 linux/amd64" },
    image: { digest: 'sha256:edad48e12bf81c3a09ac1c05c0c0ffaaa22145980b989d6fae84543a76b83657', origin: "the feature's pinned image index digest for k3s v1.36.4+k3s1" },
  });
  assert.equal(pinsFor(none, 'v1.36.4+k3s1', 'arm64').binary?.sha256, 'c920706346d5ad4e5cd3c7bf1bb09ce71ebe07fec829e513e40f1caf98aed8bb');
  assert.deepEqual(pinsFor(none, 'v1.36.5+k3s1', 'arm64'), {}, 'a missing value pins nothing');
  assert.deepEqual(pinsFor(none, 'v1.37.0+k3s1', 'amd64').image, undefined, 'a conflicting value pins nothing');
  assert.deepEqual(pinsFor(none, 'v1.33.5+k3s1', 'amd64'), {});
  assert.deepEqual(pinsFor(none, 'constructor', 'amd64'), {}, 'only the table\'s own keys count');
  const mine = { sha256: 'a'.repeat(64), imageDigest: `sha256:${'b'.repeat(64)}` };
  assert.deepEqual(pinsFor(mine, 'v1.36.4+k3s1', 'amd64'), {
    binary: { sha256: 'a'.repeat(64), origin: 'option sha256 for k3s v1.36.4+k3s1 linux/amd64' },
    image: { digest: `sha256:${'b'.repeat(64)}`, origin: 'option imageDigest for k3s v1.36.4+k3s1' },
  });
  assert.ok(pinsFor(DEFAULT_CONFIG, DEFAULT_CONFIG.version, 'amd64').binary, 'the default version is pinned for amd64');
  assert.ok(pinsFor(DEFAULT_CONFIG, DEFAULT_CONFIG.version, 'arm64').binary, 'the default version is pinned for arm64');
  assert.ok(pinsFor(DEFAULT_CONFIG, DEFAULT_CONFIG.version, 'amd64').image, 'the default version\'s image is pinned');
});

/** A pin's source names where the value was seen (a repository, owner/name) or how many independent ones agree. */
const NAMES_ITS_SOURCE = /\b[\w.-]+\/[\w.-]+\b|\b(?:two|many|\d+\+?) independent (?:projects|repositories) agree\b/;

test('pins: a source says where the value was seen, not just anything long', () => {
  const table: [string, boolean][] = [
    ['saiyam1814/kiac and others', true],
    ['8+ independent repositories agree', true],
    ['two independent projects agree', true],
    ['seen somewhere on the internet', false],
    ['independent', false],
    ['', false],
  ];
  for (const [source, names] of table) assert.equal(NAMES_ITS_SOURCE.test(source), names, source);
});

test('pins: every value in the table is well formed and names its source', () => {
  for (const [version, release] of Object.entries(KNOWN_RELEASES)) {
    assert.match(version, /^v\d+\.\d+\.\d+\+k3s\d+$/);
    for (const [arch, pin] of Object.entries(release.binary)) {
      assert.ok(['amd64', 'arm64'].includes(arch), `${version}: ${arch}`);
      assert.match(pin.value, /^[0-9a-f]{64}$/, version);
      assert.match(pin.source, NAMES_ITS_SOURCE, `${version} ${arch}`);
    }
    if (release.imageIndex) {
      assert.match(release.imageIndex.value, /^sha256:[0-9a-f]{64}$/, version);
      assert.match(release.imageIndex.source, NAMES_ITS_SOURCE, `${version} image index`);
    }
  }
});

test('ELF check: the right architecture passes; another architecture, a script or an HTML page does not, and none of them runs', async () => {
  const dir = scratch();
  const marker = join(dir, 'ran');
  writeFileSync(join(dir, 'script'), `#!/bin/sh\ntouch ${marker}\n`, { mode: 0o755 });
  writeFileSync(join(dir, 'page'), '<html>403 Forbidden</html>');
  await checkElf(process.execPath, process.arch === 'arm64' ? 'arm64' : 'amd64');
  await assert.rejects(checkElf(process.execPath, process.arch === 'arm64' ? 'amd64' : 'arm64'), /not a 64-bit ELF executable for/);
  await assert.rejects(checkElf(join(dir, 'script'), 'amd64'), /not a 64-bit ELF executable for amd64 \(it starts with "#!\/bin\/s"\)/);
  await assert.rejects(checkElf(join(dir, 'page'), 'amd64'), /it starts with "<html>40"/);
  assert.equal(existsSync(marker), false);
});
