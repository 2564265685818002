/**
 * Property tests (fast-check) for every installer parser that reads what a mirror or registry sends: the tar reader,
 * WWW-Authenticate, the sha256sum file and the OCI manifest/index JSON. Each property: the parser returns, or throws
 * its own error type with a message, never anything else; memory stays within its limits; well-formed input round
 * trips. A short run is part of `npm test`; a long one: FUZZ_RUNS=100000 node --import tsx --test test/unit/fuzz-*.test.ts
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { ChecksumFileError, expectedSha256From } from '../../src/install/digest.js';
import { ManifestError, parseManifest, pickPlatform, type ManifestDocument } from '../../src/install/oci.js';
import { TarError, extractFileFromTar } from '../../src/install/tar.js';
import { ChallengeError, bearerTokenUrl, parseChallenges } from '../../src/install/www-authenticate.js';
import { padding, paxRecord, tarArchive, tarHeader } from './helpers/tarWriter.js';
import { tempDir } from './helpers/tempDir.js';

const RUNS = Number(process.env.FUZZ_RUNS ?? 200);
const SEED = process.env.FUZZ_SEED === undefined ? undefined : Number(process.env.FUZZ_SEED);
const settings = { numRuns: RUNS, seed: SEED };

/** Passes when `run` returns or throws an instance of `expected` with a non-empty message. */
function onlyOwnErrors(expected: new (...args: never[]) => Error, run: () => unknown): boolean {
  try {
    run();
    return true;
  } catch (error) {
    if (error instanceof expected && error.message.length > 0) return true;
    throw error;
  }
}

async function onlyOwnErrorsAsync(expected: new (...args: never[]) => Error, run: () => Promise<unknown>): Promise<boolean> {
  try {
    await run();
    return true;
  } catch (error) {
    if (error instanceof expected && error.message.length > 0) return true;
    throw error;
  }
}

const work = tempDir('fuzz');
const dest = join(work, 'out');

/** Yields `bytes` in chunks of the given sizes (cycled), counting what the reader pulled. */
function chunked(bytes: Buffer, sizes: number[], pulled: { bytes: number }): AsyncIterable<Buffer> {
  return (async function* () {
    let offset = 0;
    for (let i = 0; offset < bytes.length; i += 1) {
      const piece = bytes.subarray(offset, offset + sizes[i % sizes.length]);
      offset += piece.length;
      pulled.bytes += piece.length;
      yield piece;
    }
  })();
}

const LIMITS = { maxFileBytes: 4096, maxHeaderPayloadBytes: 2048 };
const chunkSizes = fc.array(fc.integer({ min: 1, max: 1500 }), { minLength: 1, maxLength: 5 });

test('fuzz tar: random bytes, and mutations of a real archive, give a result or a TarError', async () => {
  const names = ['bin/k3s', './bin/k3s', 'etc/x', 'bin'];
  const base = tarArchive([{ name: 'etc/os-release', data: Buffer.from('ID=x\n') }, { name: 'bin/k3s', data: Buffer.alloc(700, 7) }]);
  const mutated = fc
    .array(fc.record({ at: fc.nat({ max: base.length - 1 }), value: fc.integer({ min: 0, max: 255 }) }), { maxLength: 8 })
    .chain((edits) =>
      fc.nat({ max: base.length }).map((cut) => {
        const copy = Buffer.from(base);
        for (const edit of edits) copy[edit.at] = edit.value;
        return copy.subarray(0, cut);
      }),
    );
  const input = fc.oneof(fc.uint8Array({ maxLength: 3000 }).map((bytes) => Buffer.from(bytes)), mutated);
  await fc.assert(
    fc.asyncProperty(input, chunkSizes, fc.constantFrom(...names), async (bytes, sizes, wanted) => {
      rmSync(dest, { force: true });
      return onlyOwnErrorsAsync(TarError, () => extractFileFromTar(chunked(bytes, sizes, { bytes: 0 }), wanted, dest, LIMITS));
    }),
    settings,
  );
});

test('fuzz tar: a header claiming any size is read no further than the limits allow, and nothing big is written', async () => {
  const claim = fc.record({
    type: fc.constantFrom('x', 'L', '0', 'g', '5'),
    size: fc.oneof(fc.nat({ max: 10_000 }), fc.integer({ min: 0, max: 2 ** 40 })),
    name: fc.constantFrom('bin/k3s', 'other'),
  });
  await fc.assert(
    fc.asyncProperty(claim, chunkSizes, async ({ type, size, name }, sizes) => {
      rmSync(dest, { force: true });
      const pulled = { bytes: 0 };
      // The stream holds far more than the limits: a reader that honours them stops long before its end.
      const body = Buffer.concat([tarHeader({ name, type, size }), Buffer.alloc(64 * 1024)]);
      await onlyOwnErrorsAsync(TarError, () => extractFileFromTar(chunked(body, sizes, pulled), 'bin/k3s', dest, LIMITS));
      const bufferedType = type === 'x' || type === 'L';
      if ((bufferedType && size > LIMITS.maxHeaderPayloadBytes) || (type === '0' && name === 'bin/k3s' && size > LIMITS.maxFileBytes)) {
        assert.ok(pulled.bytes <= 512 + 1500, `pulled ${pulled.bytes} bytes past a refused header of ${size}`);
      }
      let written = 0;
      try {
        written = readFileSync(dest).length;
      } catch {
        written = 0;
      }
      assert.ok(written <= LIMITS.maxFileBytes, `wrote ${written} bytes`);
      return true;
    }),
    settings,
  );
});

test('fuzz tar: archives of random files round-trip, the last copy of a path winning, pax long names included', async () => {
  const name = fc.oneof(
    fc.constantFrom('bin/k3s', 'etc/a', 'x'),
    fc.stringMatching(/^[a-z]{1,8}(\/[a-z0-9._-]{1,60}){0,3}$/),
  );
  const file = fc.record({ name, data: fc.uint8Array({ maxLength: 2000 }).map((bytes) => Buffer.from(bytes)) });
  await fc.assert(
    fc.asyncProperty(fc.array(file, { minLength: 1, maxLength: 6 }), chunkSizes, fc.nat(), async (files, sizes, pick) => {
      rmSync(dest, { force: true });
      const wanted = files[pick % files.length].name;
      const expected = [...files].reverse().find((entry) => entry.name === wanted)?.data;
      const result = await extractFileFromTar(chunked(tarArchive(files), sizes, { bytes: 0 }), wanted, dest, { maxFileBytes: 4096 });
      assert.deepEqual(result, { found: true });
      assert.deepEqual(readFileSync(dest), expected);
      return true;
    }),
    settings,
  );
});

test('fuzz tar: pax records with any key and value round-trip through the reader', async () => {
  const value = fc.string({ maxLength: 200 }).filter((text) => !text.includes('\0'));
  await fc.assert(
    fc.asyncProperty(value, async (comment) => {
      rmSync(dest, { force: true });
      const pax = Buffer.from(paxRecord('comment', comment) + paxRecord('path', 'bin/k3s'));
      const archive = Buffer.concat([
        tarHeader({ name: 'PaxHeader', type: 'x', size: pax.length }), pax, padding(pax.length),
        tarHeader({ name: 'elsewhere', type: '0', size: 3 }), Buffer.from('abc'), padding(3), Buffer.alloc(1024),
      ]);
      assert.deepEqual(await extractFileFromTar(chunked(archive, [100], { bytes: 0 }), 'bin/k3s', dest), { found: true });
      assert.equal(readFileSync(dest, 'utf8'), 'abc');
      return true;
    }),
    settings,
  );
});

test('fuzz WWW-Authenticate: any header text parses or is a ChallengeError; so is any realm', () => {
  const header = fc.oneof(
    fc.string({ maxLength: 300 }),
    fc.array(fc.constantFrom('Bearer', ' ', ',', '=', '"', '\\', 'realm', 'https://a/t', 'x', '\t'), { maxLength: 40 }).map((parts) => parts.join('')),
  );
  fc.assert(
    fc.property(header, (text) =>
      onlyOwnErrors(ChallengeError, () => {
        for (const challenge of parseChallenges(text)) {
          onlyOwnErrors(ChallengeError, () => bearerTokenUrl(challenge, 'repository:rancher/k3s:pull'));
        }
      }),
    ),
    settings,
  );
});

test('fuzz WWW-Authenticate: challenges written with quoted parameters round-trip', () => {
  const token = fc.stringMatching(/^[!#$%&'*+\-.^_`|~0-9a-z]{1,12}$/);
  const challenge = fc.record({ scheme: token, params: fc.dictionary(token, fc.string({ maxLength: 40 }), { maxKeys: 4 }) });
  fc.assert(
    fc.property(fc.array(challenge, { minLength: 1, maxLength: 3 }), (challenges) => {
      const text = challenges
        .map(({ scheme, params }) => {
          const written = Object.entries(params).map(([key, value]) => `${key}="${value.replace(/[\\"]/g, '\\$&')}"`);
          return written.length ? `${scheme} ${written.join(', ')}` : scheme;
        })
        .join(', ');
      assert.deepEqual(parseChallenges(text), challenges.map(({ scheme, params }) => ({ scheme, params: { ...params } })));
      return true;
    }),
    settings,
  );
});

test('fuzz sha256sum: any text gives 64 lowercase hex digits or a ChecksumFileError', () => {
  const line = fc.oneof(
    fc.string({ maxLength: 120 }),
    fc.tuple(fc.stringMatching(/^[0-9a-fA-F]{60,68}$/), fc.constantFrom(' ', '  ', ' *', '\t'), fc.constantFrom('k3s', 'k3s ', 'k3s\r', 'k3s-arm64', '')).map((parts) => parts.join('')),
  );
  fc.assert(
    fc.property(fc.array(line, { maxLength: 10 }), fc.constantFrom('k3s', 'k3s-arm64'), (lines, asset) =>
      onlyOwnErrors(ChecksumFileError, () => assert.match(expectedSha256From(lines.join('\n'), asset), /^[0-9a-f]{64}$/)),
    ),
    settings,
  );
});

test('fuzz sha256sum: written sha256sum files round-trip, the first line for a name winning', () => {
  const entry = fc.record({
    hex: fc.stringMatching(/^[0-9a-f]{64}$/),
    name: fc.stringMatching(/^[A-Za-z0-9._-]{1,30}$/),
    binary: fc.boolean(),
  });
  fc.assert(
    fc.property(fc.array(entry, { minLength: 1, maxLength: 8 }), fc.nat(), fc.boolean(), (entries, pick, crlf) => {
      const text = entries.map((e) => `${e.hex} ${e.binary ? '*' : ' '}${e.name}`).join(crlf ? '\r\n' : '\n');
      const wanted = entries[pick % entries.length].name;
      assert.equal(expectedSha256From(text, wanted), entries.find((e) => e.name === wanted)?.hex);
      return true;
    }),
    settings,
  );
});

test('fuzz sha256sum: a hostile line of whitespace stays linear', () => {
  const start = Date.now();
  assert.throws(() => expectedSha256From(`${'a'.repeat(64)}  k3s${' '.repeat(2_000_000)}x`, 'k3s'), ChecksumFileError);
  assert.ok(Date.now() - start < 1000);
});

test('fuzz OCI JSON: any bytes or JSON value give a document or a ManifestError, and so does picking a platform', () => {
  const descriptorish = fc.record(
    {
      digest: fc.oneof(fc.stringMatching(/^sha256:[0-9a-f]{64}$/), fc.string(), fc.integer()),
      size: fc.oneof(fc.nat(), fc.double(), fc.string(), fc.constant(-1)),
      mediaType: fc.oneof(fc.string(), fc.integer()),
      platform: fc.oneof(fc.record({ os: fc.constantFrom('linux', 'windows'), architecture: fc.constantFrom('amd64', 'arm64', 7) }, { requiredKeys: [] }), fc.string(), fc.constant(null)),
    },
    { requiredKeys: [] },
  );
  const document = fc.record(
    {
      schemaVersion: fc.oneof(fc.constant(2), fc.string()),
      mediaType: fc.oneof(fc.string(), fc.constant(null)),
      manifests: fc.oneof(fc.array(fc.oneof(descriptorish, fc.jsonValue()), { maxLength: 4 }), fc.jsonValue()),
      layers: fc.oneof(fc.array(descriptorish, { maxLength: 4 }), fc.jsonValue()),
    },
    { requiredKeys: [] },
  );
  const bytes = fc.oneof(
    fc.uint8Array({ maxLength: 400 }).map((raw) => Buffer.from(raw)),
    fc.jsonValue().map((value) => Buffer.from(JSON.stringify(value) ?? 'null')),
    document.map((value) => Buffer.from(JSON.stringify(value))),
  );
  fc.assert(
    fc.property(bytes, fc.constantFrom('amd64', 'arm64'), (raw, arch) =>
      onlyOwnErrors(ManifestError, () => {
        const doc = parseManifest(raw);
        if (doc.manifests) pickPlatform(doc, arch);
      }),
    ),
    settings,
  );
});

test('fuzz OCI JSON: well-formed indexes and manifests round-trip', () => {
  const descriptor = fc.record(
    {
      digest: fc.stringMatching(/^sha256:[0-9a-f]{64}$/),
      size: fc.nat(),
      mediaType: fc.string({ maxLength: 60 }),
      platform: fc.record({ os: fc.string({ maxLength: 8 }), architecture: fc.string({ maxLength: 8 }), variant: fc.string({ maxLength: 4 }) }),
    },
    { requiredKeys: ['digest'] },
  );
  const doc = fc.record(
    { schemaVersion: fc.constant(2), mediaType: fc.string({ maxLength: 60 }), manifests: fc.array(descriptor, { maxLength: 4 }), layers: fc.array(descriptor, { maxLength: 4 }) },
    { requiredKeys: ['schemaVersion'] },
  );
  fc.assert(
    fc.property(doc, (value) => {
      const parsed = parseManifest(Buffer.from(JSON.stringify(value)));
      // The parser keeps exactly what it checked; undefined fields drop out when compared as JSON.
      assert.deepEqual(JSON.parse(JSON.stringify(parsed)) as ManifestDocument, JSON.parse(JSON.stringify(value)));
      return true;
    }),
    settings,
  );
});
