/** One line of /proc/self/mountinfo. */
export interface Mount {
  /** The mount's unique id (first field): tells a mount we made from one that sat there before. */
  id: number;
  mountPoint: string;
  fsType: string;
  source: string;
  superOptions: string;
}

function unescapeMountField(field: string): string {
  return field.replace(/\\([0-7]{3})/g, (_m, octal: string) => String.fromCharCode(parseInt(octal, 8)));
}

/** /proc/self/mountinfo: "id parent maj:min root mountpoint opts [optional...] - fstype source superopts". */
export function parseMountinfo(text: string): Mount[] {
  const mounts: Mount[] = [];
  for (const line of text.split('\n')) {
    const fields = line.trim().split(/\s+/);
    const separator = fields.indexOf('-');
    if (separator < 5 || fields.length < separator + 3) continue;
    mounts.push({
      id: Number(fields[0]),
      mountPoint: unescapeMountField(fields[4]!),
      fsType: fields[separator + 1]!,
      source: fields[separator + 2]!,
      superOptions: fields[separator + 3] ?? '',
    });
  }
  return mounts;
}
