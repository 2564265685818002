/**
 * Follows the k3s log from an offset, across the supervisor's rotations (it renames k3s.log to
 * k3s.log.1 and opens a new k3s.log). The reader keeps the old file open, drains it, and only then
 * moves to the new one, so no line is lost at a rotation.
 */
import { closeSync, fstatSync, openSync, readSync, statSync } from 'node:fs';

const CHUNK = 64 * 1024;

export class LogTail {
  private fd: number | undefined;
  private inode: number | undefined;
  private position: number;
  private partial = '';

  constructor(
    private readonly file: string,
    startOffset = 0,
  ) {
    this.position = startOffset;
  }

  /** Complete lines written since the last call (a line still being written waits for its newline). */
  readLines(): string[] {
    const text = this.readAvailable();
    if (text === '') return [];
    const pieces = (this.partial + text).split('\n');
    this.partial = pieces.pop() ?? '';
    return pieces;
  }

  /** Raw text written since the last call, for `logs -f`. */
  readAvailable(): string {
    this.openIfNeeded();
    if (this.fd === undefined) return '';
    let text = this.drain();
    if (this.rotated()) {
      closeSync(this.fd);
      this.fd = undefined;
      this.position = 0;
      this.openIfNeeded();
      text += this.drain();
    }
    return text;
  }

  close(): void {
    if (this.fd !== undefined) closeSync(this.fd);
    this.fd = undefined;
  }

  private openIfNeeded(): void {
    if (this.fd !== undefined) return;
    try {
      this.fd = openSync(this.file, 'r');
    } catch {
      return;
    }
    const stat = fstatSync(this.fd);
    this.inode = stat.ino;
    // A file shorter than our offset is a new file (rotated or truncated while we were not looking).
    if (stat.size < this.position) this.position = 0;
  }

  private drain(): string {
    if (this.fd === undefined) return '';
    const chunks: Buffer[] = [];
    for (;;) {
      const buffer = Buffer.alloc(CHUNK);
      const n = readSync(this.fd, buffer, 0, CHUNK, this.position);
      if (n <= 0) break;
      this.position += n;
      chunks.push(buffer.subarray(0, n));
    }
    return Buffer.concat(chunks).toString('utf8');
  }

  private rotated(): boolean {
    try {
      const stat = statSync(this.file);
      return stat.ino !== this.inode || stat.size < this.position;
    } catch {
      return false;
    }
  }
}

/** The size of a file, or 0 when it does not exist yet. */
export function fileSize(file: string): number {
  try {
    return statSync(file).size;
  } catch {
    return 0;
  }
}
