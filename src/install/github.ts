import { join } from 'node:path';
import { validateOption } from '../config.js';
import { checkDigest, expectedSha256From } from './digest.js';
import type { HttpClient } from './http.js';
import { MAX_K3S_BYTES } from './limits.js';

/** Release asset names, as k3s's install.sh maps them: amd64 has no suffix. */
export function releaseAssetFor(arch: string): string {
  return arch === 'amd64' ? 'k3s' : `k3s-${arch}`;
}

export interface ReleaseDownload {
  /** The verified binary, or undefined when `installedSha256` already matches the release. */
  file?: string;
  sha256: string;
}

/** A digest that does not come from the mirror: the feature's table or the user's sha256 option. */
export interface BinaryPin {
  sha256: string;
  /** Where it comes from, for messages: "the feature's pinned digest for k3s v1.36.4+k3s1 linux/amd64". */
  origin: string;
}

/**
 * `<releaseUrl>/<version>/k3s[-arm64]` checked against `pin` when there is one; otherwise against the same release's
 * `sha256sum-<arch>.txt`, which is all k3s's own install.sh checks. When the installed binary already has the
 * expected digest, nothing is downloaded.
 */
export async function downloadRelease(
  http: HttpClient,
  releaseUrl: string,
  version: string,
  arch: string,
  workDir: string,
  installedSha256: string | undefined,
  pin: BinaryPin | undefined,
): Promise<ReleaseDownload> {
  const asset = releaseAssetFor(arch);
  const base = `${releaseUrl}/${version}`;
  const expected = pin ? pin.sha256 : expectedSha256From(await http.getText(`${base}/sha256sum-${arch}.txt`), asset);
  if (installedSha256 === expected) return { sha256: expected };
  const file = join(workDir, asset);
  const actual = await http.download(`${base}/${asset}`, file, { maxBytes: MAX_K3S_BYTES, what: 'a k3s binary' });
  checkDigest(`${base}/${asset}`, expected, actual.sha256, pin?.origin);
  return { file, sha256: actual.sha256 };
}

function versionIn(url: string): string | undefined {
  const segment = decodeURIComponent(new URL(url).pathname.split('/').filter(Boolean).pop() ?? '');
  try {
    const version = validateOption('version', segment, `channel redirect ${url}`);
    return version === 'stable' || version === 'latest' ? undefined : version;
  } catch {
    return undefined;
  }
}

/**
 * `stable`/`latest` → a release, as k3s's install.sh does it: GET `<channelUrl>/<channel>` and take the last path
 * segment of the redirect target. Stops at the first redirect naming a release, so the release page itself (which
 * sandboxes may block) is never fetched.
 */
export async function resolveChannel(http: HttpClient, channelUrl: string, channel: string): Promise<string> {
  let url = `${channelUrl}/${channel}`;
  for (let hop = 0; hop < 10; hop += 1) {
    const response = await http.get(url, { followRedirects: false });
    await response.body.dump();
    const version = versionIn(response.url);
    if (version) return version;
    if (response.status < 300 || response.status >= 400) break;
    url = response.url;
  }
  throw new Error(`channel ${channel} at ${channelUrl} did not redirect to a k3s release`);
}
