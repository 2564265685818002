import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { isNotFound } from '../files.js';

const HEX64 = /^[0-9a-f]{64}$/;

/** A sha256sum file that does not list the asset, or lists it unreadably. */
export class ChecksumFileError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ChecksumFileError';
  }
}

/** A digest that is not `sha256:<64 hex>`, or bytes that do not match one. */
export class DigestError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'DigestError';
  }
}

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
  // Sliced, not matched with a backtracking regex: a hostile file of long whitespace runs must stay linear.
  for (const line of sumsText.split('\n')) {
    const hex = line.slice(0, 64);
    if (!/^[0-9a-fA-F]{64}$/.test(hex) || line[64] !== ' ' || (line[65] !== ' ' && line[65] !== '*')) continue;
    if (line.slice(66).trimEnd() === fileName) return hex.toLowerCase();
  }
  throw new ChecksumFileError(`no sha256 line for ${fileName}`);
}

/** The hex part of an OCI digest. Only sha256 is accepted: it is what every registry serving rancher/k3s uses. */
export function sha256FromDigest(digest: string): string {
  const [algorithm, hex] = digest.split(':');
  if (algorithm !== 'sha256' || hex === undefined || !HEX64.test(hex)) {
    throw new DigestError(`unsupported or malformed digest ${JSON.stringify(digest.slice(0, 100))}; allowed: sha256:<64 hex digits>`);
  }
  return hex;
}

/** `pinnedBy` says where the expected value came from when it is not the source itself (a pin the mirror cannot change). */
export function checkDigest(what: string, expectedHex: string, actualHex: string, pinnedBy?: string): void {
  if (expectedHex !== actualHex) {
    throw new DigestError(`${what}: sha256 mismatch, expected ${expectedHex}${pinnedBy ? ` (${pinnedBy})` : ''}, got ${actualHex}`);
  }
}
