import { createWriteStream, type WriteStream } from 'node:fs';
import { once } from 'node:events';
import { MAX_K3S_BYTES, MAX_TAR_HEADER_PAYLOAD_BYTES } from './limits.js';

/**
 * Just enough of a tar reader (POSIX ustar + pax + GNU long names) to pull one file out of an image layer.
 * Layers are tar streams (gzip-compressed or not); rancher/k3s keeps the binary at `bin/k3s`.
 */

const BLOCK = 512;

/** A layer that is not a readable tar stream, or that breaks a limit: the only error the reader throws. */
export class TarError extends Error {
  constructor(message: string) {
    super(`tar: ${message}`);
    this.name = 'TarError';
  }
}

export type TarEntryType = 'file' | 'directory' | 'symlink' | 'hardlink' | 'pax' | 'pax-global' | 'gnu-longname' | 'gnu-longlink' | 'other';

export interface TarHeader {
  name: string;
  size: number;
  mode: number;
  type: TarEntryType;
  linkName: string;
}

function cString(block: Buffer, start: number, length: number): string {
  const field = block.subarray(start, start + length);
  const end = field.indexOf(0);
  return field.subarray(0, end === -1 ? length : end).toString('utf8');
}

/** Numeric fields are octal text, or base-256 big-endian when the first byte has its high bit set (GNU, > 8 GiB). */
export function parseTarNumber(field: Buffer): number {
  let value: number;
  if (field[0] & 0x80) {
    // 0xff starts a negative base-256 number, which no size or mode can be.
    if (field[0] === 0xff) throw new TarError('negative base-256 numeric field');
    value = field[0] & 0x7f;
    for (let i = 1; i < field.length; i += 1) value = value * 256 + field[i];
  } else {
    const text = field.toString('latin1').replace(/\0.*$/s, '').trim();
    if (text === '') return 0;
    if (!/^[0-7]+$/.test(text)) throw new TarError(`bad numeric field ${JSON.stringify(text)}`);
    value = parseInt(text, 8);
  }
  if (!Number.isSafeInteger(value)) throw new TarError('numeric field beyond 2^53');
  return value;
}

const TYPES: Record<string, TarEntryType> = {
  '0': 'file', '\0': 'file', '7': 'file', '5': 'directory', '2': 'symlink', '1': 'hardlink',
  x: 'pax', g: 'pax-global', L: 'gnu-longname', K: 'gnu-longlink',
};

/** Parses one header block; undefined for an all-zero (end-of-archive) block. Checks the header checksum. */
export function parseTarHeader(block: Buffer): TarHeader | undefined {
  if (block.length !== BLOCK) throw new TarError(`header block of ${block.length} bytes`);
  if (block.every((byte) => byte === 0)) return undefined;
  const stored = parseTarNumber(block.subarray(148, 156));
  let sum = 0;
  for (let i = 0; i < BLOCK; i += 1) sum += i >= 148 && i < 156 ? 0x20 : block[i];
  if (sum !== stored) throw new TarError('header checksum mismatch (not a tar stream, or corrupt)');
  let name = cString(block, 0, 100);
  const isUstar = block.subarray(257, 262).toString('latin1') === 'ustar';
  const prefix = isUstar ? cString(block, 345, 155) : '';
  if (prefix !== '') name = `${prefix}/${name}`;
  return {
    name,
    size: parseTarNumber(block.subarray(124, 136)),
    mode: parseTarNumber(block.subarray(100, 108)),
    type: TYPES[String.fromCharCode(block[156])] ?? 'other',
    linkName: cString(block, 157, 100),
  };
}

/** pax extended header records: `<length> <key>=<value>\n`, repeated; `<length>` counts the whole record. */
export function parsePaxRecords(data: Buffer): Record<string, string> {
  const records: Record<string, string> = {};
  let offset = 0;
  while (offset < data.length) {
    const space = data.indexOf(0x20, offset);
    const digits = space === -1 ? '' : data.subarray(offset, space).toString('latin1');
    const length = Number(digits);
    const end = offset + length;
    if (!/^[1-9]\d{0,8}$/.test(digits) || end > data.length || end <= space + 1 || data[end - 1] !== 0x0a) {
      throw new TarError('malformed pax header');
    }
    const record = data.subarray(space + 1, end - 1).toString('utf8');
    const eq = record.indexOf('=');
    if (eq <= 0) throw new TarError('malformed pax record');
    // defineProperty, not assignment: a record named __proto__ must stay a plain key.
    Object.defineProperty(records, record.slice(0, eq), { value: record.slice(eq + 1), enumerable: true, writable: true, configurable: true });
    offset = end;
  }
  return records;
}

/** A pax `size` record: decimal digits only, and a safe integer. */
function paxSize(value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  if (!/^\d{1,16}$/.test(value) || !Number.isSafeInteger(Number(value))) throw new TarError(`bad pax size ${JSON.stringify(value.slice(0, 40))}`);
  return Number(value);
}

/** `./bin/k3s`, `/bin/k3s` and `bin/k3s` all name the same layer path. */
export function normalizeTarPath(name: string): string {
  return name.replace(/^(\.?\/)+/, '').replace(/\/+$/, '');
}

/** Reads exact byte counts from a stream of chunks without copying whole chunks around. */
class ByteReader {
  private pending: Buffer[] = [];
  private pendingBytes = 0;
  private readonly chunks: AsyncIterator<Buffer>;

  constructor(source: AsyncIterable<Buffer>, private readonly signal?: AbortSignal) {
    this.chunks = source[Symbol.asyncIterator]();
  }

  private async fill(count: number): Promise<boolean> {
    while (this.pendingBytes < count) {
      this.signal?.throwIfAborted();
      const next = await this.chunks.next();
      if (next.done) return false;
      const chunk = Buffer.isBuffer(next.value) ? next.value : Buffer.from(next.value as Uint8Array);
      this.pending.push(chunk);
      this.pendingBytes += chunk.length;
    }
    return true;
  }

  /** Exactly `count` bytes, or undefined at a clean end of stream. */
  async read(count: number): Promise<Buffer | undefined> {
    if (!(await this.fill(count))) {
      if (this.pendingBytes === 0) return undefined;
      throw new TarError('stream ends in the middle of an entry');
    }
    const all = this.pending.length === 1 ? this.pending[0] : Buffer.concat(this.pending);
    const out = all.subarray(0, count);
    const rest = all.subarray(count);
    this.pending = rest.length ? [rest] : [];
    this.pendingBytes = rest.length;
    return out;
  }

  /** Passes `count` bytes to `sink` (or drops them), one chunk at a time. */
  async forward(count: number, sink?: WriteStream): Promise<void> {
    let left = count;
    while (left > 0) {
      if (this.pendingBytes === 0 && !(await this.fill(1))) throw new TarError('stream ends in the middle of an entry');
      const head = this.pending[0];
      const piece = head.subarray(0, Math.min(left, head.length));
      if (piece.length === head.length) this.pending.shift();
      else this.pending[0] = head.subarray(piece.length);
      this.pendingBytes -= piece.length;
      left -= piece.length;
      if (sink && !sink.write(piece)) await once(sink, 'drain');
    }
  }
}

function paddingFor(size: number): number {
  return (BLOCK - (size % BLOCK)) % BLOCK;
}

export interface ExtractResult {
  found: boolean;
  /** Set when the wanted path exists but is not a regular file (a link or a directory). */
  foundType?: TarEntryType;
}

export interface ExtractLimits {
  /** The wanted file may be at most this big; a bigger one fails before a byte is written. */
  maxFileBytes?: number;
  /** pax and GNU long-name payloads may be at most this big; they are read into memory. */
  maxHeaderPayloadBytes?: number;
  signal?: AbortSignal;
}

/**
 * Scans an uncompressed tar stream for `wantedPath` and writes that regular file's bytes to `destFile`.
 * Later entries of the same path win, as in a tar extraction. Memory stays bounded by one chunk plus
 * `maxHeaderPayloadBytes`; every format problem or broken limit is a TarError.
 */
export async function extractFileFromTar(
  source: AsyncIterable<Buffer>,
  wantedPath: string,
  destFile: string,
  limits: ExtractLimits = {},
): Promise<ExtractResult> {
  const maxFileBytes = limits.maxFileBytes ?? MAX_K3S_BYTES;
  const maxPayload = limits.maxHeaderPayloadBytes ?? MAX_TAR_HEADER_PAYLOAD_BYTES;
  const reader = new ByteReader(source, limits.signal);
  const wanted = normalizeTarPath(wantedPath);
  let result: ExtractResult = { found: false };
  let overrides: { path?: string; size?: number } = {};
  for (;;) {
    const block = await reader.read(BLOCK);
    const header = block && parseTarHeader(block);
    if (!header) break;
    const size = overrides.size ?? header.size;
    const name = normalizeTarPath(overrides.path ?? header.name);
    const current = overrides;
    overrides = {};
    if (header.type === 'pax' || header.type === 'gnu-longname') {
      if (header.size > maxPayload) {
        throw new TarError(`a ${header.type} header of ${header.size} bytes, more than the ${maxPayload}-byte limit for such headers`);
      }
      const data = (await reader.read(header.size + paddingFor(header.size))) ?? Buffer.alloc(0);
      if (header.type === 'pax') {
        const records = parsePaxRecords(data.subarray(0, header.size));
        overrides = { path: records.path, size: paxSize(records.size) };
      } else {
        overrides = { ...current, path: cString(data, 0, header.size) };
      }
      continue;
    }
    if (name === wanted && header.type === 'file') {
      if (size > maxFileBytes) {
        throw new TarError(`${wanted} is ${size} bytes, more than the ${maxFileBytes}-byte limit for this file`);
      }
      const sink = createWriteStream(destFile, { mode: 0o600 });
      try {
        await reader.forward(size, sink);
      } finally {
        sink.end();
        await once(sink, 'close');
      }
      await reader.forward(paddingFor(size));
      result = { found: true };
      continue;
    }
    if (name === wanted) result = { found: false, foundType: header.type };
    await reader.forward(size + paddingFor(size));
  }
  return result;
}

/** Gzip streams start with 1f 8b; OCI layers may also be plain tar. */
export function isGzip(firstBytes: Buffer): boolean {
  return firstBytes.length >= 2 && firstBytes[0] === 0x1f && firstBytes[1] === 0x8b;
}
