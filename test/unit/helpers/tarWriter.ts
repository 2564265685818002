/**
 * Builds tar headers and archives byte by byte for the installer's tar tests: hostile ones (a pax header claiming
 * 1 GiB) that no archiver would write, and random ones for round trips. GNU tar makes the well-formed fixtures.
 */
const BLOCK = 512;

export interface EntrySpec {
  name: string;
  /** '0' file, '5' directory, '2' symlink, 'x' pax, 'L' GNU long name, ... */
  type: string;
  size: number;
}

function octal(value: number, width: number): string {
  return value.toString(8).padStart(width - 1, '0') + '\0';
}

/** One ustar header block; sizes beyond the 11-digit octal field use base-256, as GNU tar does. */
export function tarHeader(entry: EntrySpec): Buffer {
  const block = Buffer.alloc(BLOCK);
  Buffer.from(entry.name).subarray(0, 100).copy(block, 0);
  block.write(octal(0o644, 8), 100, 'latin1');
  block.write(octal(0, 8), 108, 'latin1');
  block.write(octal(0, 8), 116, 'latin1');
  if (entry.size < 8 ** 11) {
    block.write(octal(entry.size, 12), 124, 'latin1');
  } else {
    let rest = BigInt(entry.size);
    for (let i = 135; i > 124; i -= 1) {
      block[i] = Number(rest & 0xffn);
      rest >>= 8n;
    }
    block[124] = 0x80;
  }
  block.write(octal(0, 12), 136, 'latin1');
  block.write(entry.type, 156, 'latin1');
  block.write('ustar\0', 257, 'latin1');
  block.write('00', 263, 'latin1');
  block.fill(0x20, 148, 156);
  let sum = 0;
  for (const byte of block) sum += byte;
  block.write(octal(sum, 7) + ' ', 148, 'latin1');
  return block;
}

export function padding(size: number): Buffer {
  return Buffer.alloc((BLOCK - (size % BLOCK)) % BLOCK);
}

/** A pax record `<length> <key>=<value>\n`, its length counting itself. */
export function paxRecord(key: string, value: string): string {
  const body = ` ${key}=${value}\n`;
  let length = Buffer.byteLength(body) + 1;
  while (String(length).length + Buffer.byteLength(body) !== length) length += 1;
  return `${length}${body}`;
}

/** A whole archive of regular files; names longer than 100 bytes get a pax path record. */
export function tarArchive(files: { name: string; data: Buffer }[]): Buffer {
  const parts: Buffer[] = [];
  for (const file of files) {
    if (Buffer.byteLength(file.name) > 100) {
      const pax = Buffer.from(paxRecord('path', file.name));
      parts.push(tarHeader({ name: 'PaxHeader', type: 'x', size: pax.length }), pax, padding(pax.length));
    }
    parts.push(tarHeader({ name: file.name, type: '0', size: file.data.length }), file.data, padding(file.data.length));
  }
  parts.push(Buffer.alloc(BLOCK * 2));
  return Buffer.concat(parts);
}
