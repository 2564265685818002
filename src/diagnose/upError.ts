import type { FatalSignature } from '../k3s/signatures.js';

/**
 * A failed `up`, with what the report step needs to explain it: a one-line summary for stdout, the
 * diagnosis (what, why, remedy) for stderr, and the exit code.
 */
export class UpError extends Error {
  readonly exitCode: number;
  readonly signature?: FatalSignature;
  readonly details: string[];

  constructor(message: string, options: { exitCode?: number; signature?: FatalSignature; details?: string[] } = {}) {
    super(message);
    this.name = 'UpError';
    this.exitCode = options.exitCode ?? 1;
    this.signature = options.signature;
    this.details = options.details ?? [];
  }
}

/** The what/why/remedy lines shown on stderr for a matched signature. */
export function describeSignature(signature: FatalSignature): string[] {
  return [
    `what: ${signature.what}`,
    `why: ${signature.why}`,
    `remedy: ${signature.remedy}`,
    `log: ${signature.line.trim()}`,
  ];
}
