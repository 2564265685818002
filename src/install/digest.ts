import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { isNotFound } from '../files.js';

const HEX64 = /^[0-9a-f]{64}$/;

export function sha256Hex(data: Buffer | string): string {
  return createHash('sha256').update(data).digest('hex');
}

/** sha256 of a file's contents, or undefined when the file does not exist. */
export async function sha256OfFile(file: string): Promise<string | undefined> {
  const hash = createHash('sha256');
  try {
    for await (const chunk of createReadStream(file)) hash.update(chunk as Buffer);
  } catch (error) {
    if (isNotFound(error)) return undefined;
    throw error;
  }
  return hash.digest('hex');
}

/**
 * The hex digest for `fileName` in `sha256sum` output (`<hex>  <name>`, or `<hex> *<name>` for binary mode),
 * as k3s's install.sh reads sha256sum-<arch>.txt. Throws when the file is not listed or the line is malformed.
 */
export function expectedSha256From(sumsText: string, fileName: string): string {
  for (const line of sumsText.split('\n')) {
    const match = /^([0-9a-fA-F]{64}) [ *](.+?)\s*$/.exec(line);
    if (match && match[2] === fileName) return match[1].toLowerCase();
  }
  throw new Error(`no sha256 line for ${fileName}`);
}

/** The hex part of an OCI digest. Only sha256 is accepted: it is what every registry serving rancher/k3s uses. */
export function sha256FromDigest(digest: string): string {
  const [algorithm, hex] = digest.split(':');
  if (algorithm !== 'sha256' || hex === undefined || !HEX64.test(hex)) {
    throw new Error(`unsupported or malformed digest ${JSON.stringify(digest)}; allowed: sha256:<64 hex digits>`);
  }
  return hex;
}

export function checkDigest(what: string, expectedHex: string, actualHex: string): void {
  if (expectedHex !== actualHex) {
    throw new Error(`${what}: sha256 mismatch, expected ${expectedHex}, got ${actualHex}`);
  }
}
