/**
 * Size limits for everything the installer reads from a mirror or a registry. Every one is far above what a real
 * k3s release needs and far below what would exhaust memory or disk, so a hostile or broken source fails fast with
 * a clear error instead of filling RAM or the bin dir.
 */

/** A k3s binary is ~70 MiB (amd64 and arm64 alike, 1.3x-1.36); 512 MiB leaves room for growth and refuses bombs. */
export const MAX_K3S_BYTES = 512 * 1024 * 1024;

/** A rancher/k3s layer holds bin/k3s plus a few small files, compressed: never more than the binary cap twice over. */
export const MAX_LAYER_BYTES = 2 * MAX_K3S_BYTES;

/** Manifests, image indexes, token answers and sha256sum files are a few KiB; 4 MiB is the distribution spec's manifest cap. */
export const MAX_DOCUMENT_BYTES = 4 * 1024 * 1024;

/** pax extended headers and GNU long names hold a path or a few records: 1 MiB is thousands of times what they need. */
export const MAX_TAR_HEADER_PAYLOAD_BYTES = 1024 * 1024;
