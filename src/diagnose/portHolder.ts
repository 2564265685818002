/**
 * Who holds a TCP port, from /proc/net/tcp{,6} (the listening socket's inode) and /proc/<pid>/fd (which
 * process has that socket open). Best effort: another user's fds are not visible to non-root, and
 * then the answer is empty. Only used to name the holder in a message; nothing here signals anyone.
 */
import { readFileSync, readdirSync, readlinkSync } from 'node:fs';
import { describeProcess } from '../instance/processes.js';

const TCP_LISTEN = '0A';

/** Inodes of sockets listening on `port`, parsed from the text of /proc/net/tcp or tcp6. */
export function listeningInodes(procNetTcp: string, port: number): string[] {
  const inodes: string[] = [];
  for (const line of procNetTcp.split('\n').slice(1)) {
    const fields = line.trim().split(/\s+/);
    if (fields.length < 10) continue;
    const localPort = parseInt(fields[1].split(':').pop() ?? '', 16);
    if (localPort === port && fields[3] === TCP_LISTEN) inodes.push(fields[9]);
  }
  return inodes;
}

/** `pid (command)` of each process with a socket listening on `port`. */
export function describePortHolders(port: number): string[] {
  const inodes = new Set<string>();
  for (const table of ['/proc/net/tcp', '/proc/net/tcp6']) {
    try {
      for (const inode of listeningInodes(readFileSync(table, 'utf8'), port)) inodes.add(`socket:[${inode}]`);
    } catch {
      // No such table (IPv6 off) or not readable.
    }
  }
  if (inodes.size === 0) return [];
  const holders: string[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    let fds: string[];
    try {
      fds = readdirSync(`/proc/${entry}/fd`);
    } catch {
      continue;
    }
    for (const fd of fds) {
      try {
        if (inodes.has(readlinkSync(`/proc/${entry}/fd/${fd}`))) {
          holders.push(describeProcess(Number(entry)));
          break;
        }
      } catch {
        // The fd closed while we looked.
      }
    }
  }
  return holders;
}
