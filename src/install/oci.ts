import { createReadStream } from 'node:fs';
import { open, rm } from 'node:fs/promises';
import { createGunzip } from 'node:zlib';
import { join } from 'node:path';
import { checkDigest, sha256FromDigest, sha256Hex } from './digest.js';
import { HttpClient, HttpStatusError, headerValue, type HttpOptions } from './http.js';
import { MAX_DOCUMENT_BYTES, MAX_K3S_BYTES, MAX_LAYER_BYTES } from './limits.js';
import { extractFileFromTar, isGzip } from './tar.js';
import { bearerTokenUrl, parseChallenges } from './www-authenticate.js';

/**
 * Pulls one file out of an OCI/Docker image with nothing but HTTPS: the distribution-spec API, the anonymous Bearer
 * token flow, the index → platform manifest → layer blobs chain, each blob checked against its sha256 digest.
 */

export const MEDIA_TYPES = {
  ociIndex: 'application/vnd.oci.image.index.v1+json',
  dockerList: 'application/vnd.docker.distribution.manifest.list.v2+json',
  ociManifest: 'application/vnd.oci.image.manifest.v1+json',
  dockerManifest: 'application/vnd.docker.distribution.manifest.v2+json',
} as const;

const ACCEPT_MANIFESTS = Object.values(MEDIA_TYPES).join(', ');

export interface Descriptor {
  mediaType?: string;
  digest: string;
  size?: number;
  platform?: { os?: string; architecture?: string; variant?: string };
}

export interface ManifestDocument {
  mediaType?: string;
  schemaVersion?: number;
  manifests?: Descriptor[];
  layers?: Descriptor[];
}

/** Manifest or index bytes that are not the JSON shape the distribution spec gives them. */
export class ManifestError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ManifestError';
  }
}

const DIGEST_RE = /^sha256:[0-9a-f]{64}$/;

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function optionalString(value: unknown, what: string): string | undefined {
  if (value === undefined || typeof value === 'string') return value;
  throw new ManifestError(`${what} is not a string`);
}

function parseDescriptor(value: unknown, what: string): Descriptor {
  if (!isObject(value)) throw new ManifestError(`${what} is not an object`);
  const { digest, size, mediaType, platform } = value;
  if (typeof digest !== 'string' || !DIGEST_RE.test(digest)) {
    throw new ManifestError(`${what} has no sha256 digest (allowed: sha256:<64 lowercase hex digits>)`);
  }
  if (size !== undefined && !(typeof size === 'number' && Number.isSafeInteger(size) && size >= 0)) {
    throw new ManifestError(`${what} has a size that is not a whole number of bytes`);
  }
  const descriptor: Descriptor = { digest, mediaType: optionalString(mediaType, `${what} mediaType`) };
  if (size !== undefined) descriptor.size = size;
  if (platform !== undefined) {
    if (!isObject(platform)) throw new ManifestError(`${what} platform is not an object`);
    descriptor.platform = {
      os: optionalString(platform.os, `${what} platform.os`),
      architecture: optionalString(platform.architecture, `${what} platform.architecture`),
      variant: optionalString(platform.variant, `${what} platform.variant`),
    };
  }
  return descriptor;
}

function parseDescriptors(value: unknown, what: string): Descriptor[] | undefined {
  if (value === undefined) return undefined;
  if (!Array.isArray(value)) throw new ManifestError(`${what} is not a list`);
  return value.map((entry, index) => parseDescriptor(entry, `${what}[${index}]`));
}

/** Parses manifest or index bytes from a registry, checking every field this client uses. Throws ManifestError. */
export function parseManifest(bytes: Buffer): ManifestDocument {
  let json: unknown;
  try {
    json = JSON.parse(bytes.toString('utf8'));
  } catch (error) {
    throw new ManifestError(`manifest is not JSON (${(error as Error).message.slice(0, 200)})`);
  }
  if (!isObject(json)) throw new ManifestError('manifest is not a JSON object');
  const { mediaType, schemaVersion } = json;
  if (schemaVersion !== undefined && typeof schemaVersion !== 'number') throw new ManifestError('manifest schemaVersion is not a number');
  return {
    mediaType: optionalString(mediaType, 'manifest mediaType'),
    schemaVersion,
    manifests: parseDescriptors(json.manifests, 'manifests'),
    layers: parseDescriptors(json.layers, 'layers'),
  };
}

/** `docker.io` is a name, not an API endpoint: Docker Hub serves the registry API at registry-1.docker.io. */
export function registryEndpoint(registry: string): string {
  return registry === 'docker.io' || registry === 'index.docker.io' ? 'registry-1.docker.io' : registry;
}

/** k3s versions carry build metadata after `+`, which tags cannot hold: rancher/k3s tags use `-` instead. */
export function imageTagFor(version: string): string {
  return version.replace('+', '-');
}

/** The manifest for linux/<arch> from an index; arm64 images may carry variant v8 or none. */
export function pickPlatform(index: ManifestDocument, arch: string): Descriptor {
  const candidates = (index.manifests ?? []).filter(
    (entry) => entry.platform?.os === 'linux' && entry.platform.architecture === arch,
  );
  const chosen = candidates.find((entry) => !entry.platform?.variant || entry.platform.variant === 'v8') ?? candidates[0];
  if (!chosen) {
    const offered = (index.manifests ?? []).map((entry) => `${entry.platform?.os}/${entry.platform?.architecture}`).join(', ');
    throw new ManifestError(`the image index has no linux/${arch} manifest (it offers: ${offered || 'nothing'})`);
  }
  return chosen;
}

function isIndex(doc: ManifestDocument, contentType: string | undefined): boolean {
  const type = doc.mediaType ?? contentType ?? '';
  return type.startsWith(MEDIA_TYPES.ociIndex) || type.startsWith(MEDIA_TYPES.dockerList) || (doc.manifests !== undefined && doc.layers === undefined);
}

export interface RegistryPull {
  registry: string;
  repository: string;
  /** A tag, or `sha256:<hex>` to pull by digest (then every document in the chain is pinned by that digest). */
  reference: string;
  arch: string;
  /** Path of the file inside the image, e.g. `bin/k3s`. */
  path: string;
  workDir: string;
}

export class RegistryClient {
  private token: string | undefined;
  private readonly base: string;

  constructor(
    private readonly http: HttpClient,
    private readonly registry: string,
    private readonly repository: string,
    private readonly log: (line: string) => void,
  ) {
    const endpoint = registryEndpoint(registry);
    this.base = `${http.allowsPlainHttp(endpoint) ? 'http' : 'https'}://${endpoint}/v2/${repository}`;
  }

  private options(accept?: string): HttpOptions {
    const headers: Record<string, string> = {};
    if (accept) headers.accept = accept;
    if (this.token) headers.authorization = `Bearer ${this.token}`;
    return { headers };
  }

  /** Answers a 401 challenge by fetching an anonymous pull token from the realm it names. */
  private async authenticate(error: HttpStatusError): Promise<void> {
    const header = headerValue(error.headers, 'www-authenticate');
    if (!header) throw new Error(`${error.message} without a WWW-Authenticate challenge`);
    const bearer = parseChallenges(header).find((challenge) => challenge.scheme === 'bearer');
    if (!bearer) throw new Error(`${error.message}: the registry wants ${header.split(' ')[0]} credentials; only anonymous Bearer tokens are supported`);
    const tokenUrl = bearerTokenUrl(bearer, `repository:${this.repository}:pull`);
    this.log(`registry ${this.registry}: fetching an anonymous token from ${new URL(tokenUrl).origin}${new URL(tokenUrl).pathname}`);
    let answer: unknown;
    try {
      answer = JSON.parse(await this.http.getText(tokenUrl));
    } catch (error) {
      if (!(error instanceof SyntaxError)) throw error;
      throw new Error(`token endpoint ${tokenUrl} answered with something other than JSON`);
    }
    const token = isObject(answer) ? (answer.token ?? answer.access_token) : undefined;
    if (typeof token !== 'string' || token === '') throw new Error(`token endpoint ${tokenUrl} answered without a token`);
    this.token = token;
  }

  /** Runs a registry request, (re)authenticating once on a 401: a token can also expire during a long pull. */
  private async authorized<T>(request: (options: HttpOptions) => Promise<T>, accept?: string): Promise<T> {
    try {
      return await request(this.options(accept));
    } catch (error) {
      if (!(error instanceof HttpStatusError) || error.status !== 401) throw error;
      await this.authenticate(error);
      return request(this.options(accept));
    }
  }

  /** Fetches a manifest by tag or digest and checks its bytes against the digest (the requested one, or the header's). */
  async manifest(reference: string): Promise<{ doc: ManifestDocument; contentType?: string; digest?: string }> {
    const url = `${this.base}/manifests/${reference}`;
    const response = await this.authorized(
      (options) => this.http.getDocument(url, options, { maxBytes: MAX_DOCUMENT_BYTES, what: 'a manifest' }),
      ACCEPT_MANIFESTS,
    );
    const expected = reference.startsWith('sha256:') ? reference : headerValue(response.headers, 'docker-content-digest');
    if (expected) checkDigest(`manifest ${reference}`, sha256FromDigest(expected), sha256Hex(response.bytes));
    const doc = parseManifest(response.bytes);
    return { doc, contentType: headerValue(response.headers, 'content-type'), digest: expected };
  }

  /**
   * Downloads a blob into `file` and checks it against its digest and its declared size: the download stops as soon
   * as it passes that size (or MAX_LAYER_BYTES when none is declared).
   */
  async blob(descriptor: Descriptor, file: string): Promise<void> {
    const expected = sha256FromDigest(descriptor.digest);
    if (descriptor.size !== undefined && descriptor.size > MAX_LAYER_BYTES) {
      throw new Error(`blob ${descriptor.digest} declares ${descriptor.size} bytes, more than the ${MAX_LAYER_BYTES}-byte limit for a k3s image layer`);
    }
    const limit = descriptor.size === undefined
      ? { maxBytes: MAX_LAYER_BYTES, what: 'a k3s image layer' }
      : { maxBytes: descriptor.size, what: `blob ${descriptor.digest} (its descriptor declares ${descriptor.size} bytes)` };
    const actual = await this.authorized((options) => this.http.download(`${this.base}/blobs/${descriptor.digest}`, file, limit, options));
    checkDigest(`blob ${descriptor.digest}`, expected, actual.sha256);
    if (descriptor.size !== undefined && actual.bytes !== descriptor.size) {
      throw new Error(`blob ${descriptor.digest}: ${actual.bytes} bytes, but its descriptor declares ${descriptor.size}`);
    }
  }
}

async function firstBytes(file: string): Promise<Buffer> {
  const handle = await open(file, 'r');
  try {
    const buffer = Buffer.alloc(2);
    const { bytesRead } = await handle.read(buffer, 0, 2, 0);
    return buffer.subarray(0, bytesRead);
  } finally {
    await handle.close();
  }
}

/** Extracts `path` from a verified layer file; gzip or plain tar. */
async function extractFromLayer(layerFile: string, mediaType: string, path: string, dest: string, signal?: AbortSignal): Promise<boolean> {
  if (mediaType.includes('zstd')) throw new Error(`layer media type ${mediaType} is zstd-compressed, which this installer cannot read`);
  const raw = createReadStream(layerFile);
  const stream = isGzip(await firstBytes(layerFile)) ? raw.pipe(createGunzip()) : raw;
  raw.on('error', (error) => stream.destroy(error));
  try {
    const result = await extractFileFromTar(stream, path, dest, { maxFileBytes: MAX_K3S_BYTES, signal });
    if (!result.found && result.foundType) throw new Error(`${path} in the image is a ${result.foundType}, not a regular file`);
    return result.found;
  } finally {
    raw.destroy();
  }
}

/** `rancher/k3s:v1.36.4-k3s1` or `rancher/k3s@sha256:…`. */
export function imageReference(repository: string, reference: string): string {
  return reference.startsWith('sha256:') ? `${repository}@${reference}` : `${repository}:${reference}`;
}

/**
 * index → linux/<arch> manifest → layers (top layer first, as the top-most copy of a file is the one a container
 * sees) → `path` extracted to `<workDir>/extracted`. Returns that file. Pulled by digest, every step is checked
 * against a digest that came from the step before, so the whole chain is pinned by the first one.
 */
export async function pullFileFromImage(http: HttpClient, pull: RegistryPull, log: (line: string) => void, signal?: AbortSignal): Promise<string> {
  const client = new RegistryClient(http, pull.registry, pull.repository, log);
  const image = imageReference(pull.repository, pull.reference);
  let { doc, contentType } = await client.manifest(pull.reference);
  if (isIndex(doc, contentType)) {
    const platform = pickPlatform(doc, pull.arch);
    log(`registry ${pull.registry}: ${image} linux/${pull.arch} is ${platform.digest}`);
    ({ doc, contentType } = await client.manifest(platform.digest));
  }
  if (doc.schemaVersion !== 2 || !Array.isArray(doc.layers)) {
    throw new Error(`manifest for ${image} is not a schema 2 image manifest`);
  }
  const dest = join(pull.workDir, 'extracted');
  for (const [index, layer] of [...doc.layers].reverse().entries()) {
    const layerFile = join(pull.workDir, `layer-${index}`);
    log(`registry ${pull.registry}: layer ${layer.digest} (${layer.size ?? '?'} bytes)`);
    try {
      await client.blob(layer, layerFile);
      if (await extractFromLayer(layerFile, layer.mediaType ?? '', pull.path, dest, signal)) return dest;
    } finally {
      await rm(layerFile, { force: true });
    }
  }
  throw new Error(`no layer of ${image} holds ${pull.path}`);
}
