/**
 * Pod IPs for the simulated node: one unique IPv4 address per pod UID from a private range, released when the pod
 * is gone. Nothing routes to these addresses; they exist so that Services get endpoints and tools that read
 * status.podIP see a plausible one.
 */

/** k3s's default cluster CIDR; in control-plane mode no real pod uses it. */
export const POD_CIDR = '10.42.0.0/16';

function parseIPv4(text: string): number | undefined {
  const parts = text.split('.');
  if (parts.length !== 4) return undefined;
  let value = 0;
  for (const part of parts) {
    if (!/^\d{1,3}$/.test(part) || Number(part) > 255) return undefined;
    value = value * 256 + Number(part);
  }
  return value;
}

function formatIPv4(value: number): string {
  return [value >>> 24, (value >>> 16) & 255, (value >>> 8) & 255, value & 255].join('.');
}

export class IpPool {
  private readonly first: number;
  private readonly last: number;
  private readonly byUid = new Map<string, number>();
  private readonly used = new Set<number>();
  private cursor: number;

  /** Hands out the CIDR's addresses except its network address, its first host (the gateway) and its broadcast. */
  constructor(private readonly cidr = POD_CIDR) {
    const [address, prefixText] = cidr.split('/');
    const network = address === undefined ? undefined : parseIPv4(address);
    const prefix = Number(prefixText);
    if (network === undefined || !Number.isInteger(prefix) || prefix < 8 || prefix > 30) {
      throw new Error(`pod CIDR ${JSON.stringify(cidr)} is not an IPv4 CIDR with a prefix from /8 to /30`);
    }
    const size = 2 ** (32 - prefix);
    const base = network - (network % size);
    this.first = base + 2;
    this.last = base + size - 2;
    this.cursor = this.first;
  }

  get size(): number {
    return this.used.size;
  }

  /** The pod's address: the one it already has, else the next free one. Throws when the range is full. */
  allocate(uid: string): string {
    const held = this.byUid.get(uid);
    if (held !== undefined) return formatIPv4(held);
    const span = this.last - this.first + 1;
    for (let tried = 0; tried < span; tried++) {
      const candidate = this.cursor;
      this.cursor = candidate === this.last ? this.first : candidate + 1;
      if (!this.used.has(candidate)) {
        this.take(uid, candidate);
        return formatIPv4(candidate);
      }
    }
    throw new Error(`no free pod IP left in ${this.cidr}`);
  }

  /**
   * Records an address a pod already reports (after a restart, from the fresh list), so it is not handed out again.
   * Addresses outside the range, or already held by another pod, are ignored.
   */
  reserve(uid: string, ip: string): void {
    const value = parseIPv4(ip);
    if (value === undefined || value < this.first || value > this.last || this.used.has(value) || this.byUid.has(uid)) return;
    this.take(uid, value);
  }

  release(uid: string): void {
    const held = this.byUid.get(uid);
    if (held === undefined) return;
    this.byUid.delete(uid);
    this.used.delete(held);
  }

  private take(uid: string, value: number): void {
    this.byUid.set(uid, value);
    this.used.add(value);
  }
}
