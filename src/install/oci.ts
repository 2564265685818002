import { createReadStream } from 'node:fs';
import { open, rm } from 'node:fs/promises';
import { createGunzip } from 'node:zlib';
import { join } from 'node:path';
import { checkDigest, sha256FromDigest, sha256Hex } from './digest.js';
import { HttpClient, HttpStatusError, headerValue, type HttpOptions } from './http.js';
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

interface ManifestDocument {
  mediaType?: string;
  schemaVersion?: number;
  manifests?: Descriptor[];
  layers?: Descriptor[];
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
    throw new Error(`the image index has no linux/${arch} manifest (it offers: ${offered || 'nothing'})`);
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
  tag: string;
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
    this.base = `https://${registryEndpoint(registry)}/v2/${repository}`;
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
    const answer = JSON.parse(await this.http.getText(tokenUrl)) as { token?: string; access_token?: string };
    const token = answer.token ?? answer.access_token;
    if (!token) throw new Error(`token endpoint ${tokenUrl} answered without a token`);
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
    const response = await this.authorized(async (options) => {
      const answer = await this.http.get(url, options);
      return { bytes: Buffer.from(await answer.body.arrayBuffer()), headers: answer.headers };
    }, ACCEPT_MANIFESTS);
    const expected = reference.startsWith('sha256:') ? reference : headerValue(response.headers, 'docker-content-digest');
    if (expected) checkDigest(`manifest ${reference}`, sha256FromDigest(expected), sha256Hex(response.bytes));
    const doc = JSON.parse(response.bytes.toString('utf8')) as ManifestDocument;
    return { doc, contentType: headerValue(response.headers, 'content-type'), digest: expected };
  }

  /** Downloads a blob into `file` and checks it against its digest (and size, when the descriptor gives one). */
  async blob(descriptor: Descriptor, file: string): Promise<void> {
    const expected = sha256FromDigest(descriptor.digest);
    const actual = await this.authorized((options) => this.http.download(`${this.base}/blobs/${descriptor.digest}`, file, options));
    checkDigest(`blob ${descriptor.digest}`, expected, actual);
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
async function extractFromLayer(layerFile: string, mediaType: string, path: string, dest: string): Promise<boolean> {
  if (mediaType.includes('zstd')) throw new Error(`layer media type ${mediaType} is zstd-compressed, which this installer cannot read`);
  const raw = createReadStream(layerFile);
  const stream = isGzip(await firstBytes(layerFile)) ? raw.pipe(createGunzip()) : raw;
  raw.on('error', (error) => stream.destroy(error));
  try {
    const result = await extractFileFromTar(stream, path, dest);
    if (!result.found && result.foundType) throw new Error(`${path} in the image is a ${result.foundType}, not a regular file`);
    return result.found;
  } finally {
    raw.destroy();
  }
}

/**
 * index → linux/<arch> manifest → layers (top layer first, as the top-most copy of a file is the one a container
 * sees) → `path` extracted to `<workDir>/extracted`. Returns that file.
 */
export async function pullFileFromImage(http: HttpClient, pull: RegistryPull, log: (line: string) => void): Promise<string> {
  const client = new RegistryClient(http, pull.registry, pull.repository, log);
  let { doc, contentType } = await client.manifest(pull.tag);
  if (isIndex(doc, contentType)) {
    const platform = pickPlatform(doc, pull.arch);
    log(`registry ${pull.registry}: ${pull.repository}:${pull.tag} linux/${pull.arch} is ${platform.digest}`);
    ({ doc, contentType } = await client.manifest(platform.digest));
  }
  if (doc.schemaVersion !== 2 || !Array.isArray(doc.layers)) {
    throw new Error(`manifest for ${pull.repository}:${pull.tag} is not a schema 2 image manifest`);
  }
  const dest = join(pull.workDir, 'extracted');
  for (const [index, layer] of [...doc.layers].reverse().entries()) {
    const layerFile = join(pull.workDir, `layer-${index}`);
    log(`registry ${pull.registry}: layer ${layer.digest} (${layer.size ?? '?'} bytes)`);
    try {
      await client.blob(layer, layerFile);
      if (await extractFromLayer(layerFile, layer.mediaType ?? '', pull.path, dest)) return dest;
    } finally {
      await rm(layerFile, { force: true });
    }
  }
  throw new Error(`no layer of ${pull.repository}:${pull.tag} holds ${pull.path}`);
}
