import { createHash } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { pipeline } from 'node:stream/promises';
import { Transform } from 'node:stream';
import type { Dispatcher } from 'undici';
import { MAX_DOCUMENT_BYTES } from './limits.js';

/**
 * HTTP for the installer: HTTPS_PROXY/HTTP_PROXY/NO_PROXY through undici's EnvHttpProxyAgent (Node's global fetch
 * ignores them before Node 24), NODE_EXTRA_CA_CERTS through Node's default TLS trust store, manual redirects so an
 * Authorization header never follows a redirect to another host, retries with backoff inside a total deadline, one
 * AbortSignal that ends every request and body at once (the install's wall-clock limit, or SIGTERM), https only
 * unless a host is listed as insecure, and a size limit on every body.
 */

/** An HTTP answer that is final for this source: retrying would not change it (4xx other than 408/429). */
export class HttpStatusError extends Error {
  constructor(
    readonly url: string,
    readonly status: number,
    readonly headers: Record<string, string | string[] | undefined>,
  ) {
    super(`HTTP ${status} from ${url}`);
    this.name = 'HttpStatusError';
  }
}

/** A plain-http URL (a token realm, a redirect, a releaseUrl) to a host the user did not list as insecure. */
export class InsecureUrlError extends Error {
  constructor(readonly url: string, why: string) {
    super(why);
    this.name = 'InsecureUrlError';
  }
}

/** A body larger than the limit for what it should be (a manifest, a layer of the declared size, a k3s binary). */
export class BodyTooLargeError extends Error {
  constructor(readonly url: string, limit: number, what: string) {
    super(`${url} sent more than ${limit} bytes, the limit for ${what}`);
    this.name = 'BodyTooLargeError';
  }
}

/** Whether `url` may be fetched over plain http: its host or host:port is listed in `insecureHosts`. */
export function isInsecureAllowed(url: URL, insecureHosts: readonly string[]): boolean {
  return insecureHosts.includes(url.host) || insecureHosts.includes(url.hostname);
}

export interface HttpResponse {
  url: string;
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: Dispatcher.ResponseData['body'];
}

export interface HttpOptions {
  headers?: Record<string, string>;
  /** Follow 3xx answers (default true). When false a redirect is returned to the caller. */
  followRedirects?: boolean;
}

export interface BodyLimit {
  maxBytes: number;
  /** What the body is, for the error: "a manifest", "layer sha256:… (declared 1234 bytes)". */
  what: string;
}

export interface ClientSafety {
  /** Ends every request, retry wait and body read when aborted; its reason is what the caller sees. */
  signal?: AbortSignal;
  /** Hosts (host or host:port) that may be reached over plain http. */
  insecureHosts?: readonly string[];
}

export interface RetryPolicy {
  attempts: number;
  firstDelayMs: number;
  /** No new attempt starts after this moment (ms since the epoch). */
  deadline: number;
}

const MAX_REDIRECTS = 10;
const RETRYABLE_STATUS = new Set([408, 429, 500, 502, 503, 504]);

export function headerValue(headers: HttpResponse['headers'], name: string): string | undefined {
  const value = headers[name.toLowerCase()];
  return Array.isArray(value) ? value[0] : value;
}

function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason);
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal?.reason);
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

/** A byte counter that fails the stream once more than `limit.maxBytes` have passed. */
function limitedCounter(url: string, limit: BodyLimit, onChunk: (chunk: Buffer) => void): Transform {
  let total = 0;
  return new Transform({
    transform(chunk: Buffer, _encoding, done) {
      total += chunk.length;
      if (total > limit.maxBytes) return done(new BodyTooLargeError(url, limit.maxBytes, limit.what));
      onChunk(chunk);
      done(null, chunk);
    },
  });
}

/** Turns undici's terse socket errors into words that say which address failed and how. */
export function describeError(error: unknown): string {
  if (error instanceof HttpStatusError) return error.message;
  const err = error as NodeJS.ErrnoException & { cause?: NodeJS.ErrnoException };
  const cause = err.cause ?? err;
  const code = cause.code ? `${cause.code}: ` : '';
  return `${code}${cause.message ?? String(error)}`;
}

/** undici marks EnvHttpProxyAgent experimental with a process warning that would only confuse install logs. */
function withoutExperimentalWarning<T>(make: () => T): T {
  const emitWarning = process.emitWarning;
  process.emitWarning = () => undefined;
  try {
    return make();
  } finally {
    process.emitWarning = emitWarning;
  }
}

/** undici's request and the proxy-aware dispatcher it goes through. */
interface Undici {
  request: typeof import('undici').request;
  dispatcher: Dispatcher;
}

export class HttpClient {
  /**
   * Loaded on the first request: the installer's code shares a chunk with `down`, `logs` and a cold `up`
   * (src/lazy.ts), which need no HTTP client.
   */
  private undici?: Promise<Undici>;
  private readonly signal?: AbortSignal;
  private readonly insecureHosts: readonly string[];

  constructor(
    private readonly retry: RetryPolicy,
    private readonly log: (line: string) => void,
    safety: ClientSafety = {},
  ) {
    this.signal = safety.signal;
    this.insecureHosts = safety.insecureHosts ?? [];
  }

  /** Whether a registry host is one the user allowed over plain http. */
  allowsPlainHttp(host: string): boolean {
    return isInsecureAllowed(new URL(`http://${host}`), this.insecureHosts);
  }

  /** https always; plain http only to a listed host; nothing else. `via` says how the URL was reached. */
  private checkScheme(url: URL, via: string): void {
    if (url.protocol === 'https:') return;
    if (url.protocol === 'http:') {
      if (isInsecureAllowed(url, this.insecureHosts)) return;
      throw new InsecureUrlError(
        url.href,
        `refusing plain http ${url.href}${via}: only https is used unless the host is listed in the insecureRegistries option ` +
          `(K3S_SANDBOX_INSECURE_REGISTRIES), e.g. insecureRegistries=${url.host}`,
      );
    }
    throw new InsecureUrlError(url.href, `refusing ${url.href}${via}: only https (or http to a host in insecureRegistries) is allowed`);
  }

  /** The abort reason when the signal fired, whatever undici wrapped it in. */
  private rethrow(error: unknown): never {
    if (this.signal?.aborted) throw this.signal.reason;
    throw error;
  }

  private loadUndici(): Promise<Undici> {
    this.undici ??= import('undici').then((undici) => {
      // undici is CommonJS: Node's loader gives its named exports, but esbuild's code-split bundle gives a dynamic
      // import of it only `default` (its module.exports), so take the names from whichever holds them.
      const { EnvHttpProxyAgent, request } = 'EnvHttpProxyAgent' in undici ? undici : (undici as unknown as { default: typeof undici }).default;
      return {
        request,
        dispatcher: withoutExperimentalWarning(() => new EnvHttpProxyAgent({ headersTimeout: 30_000, bodyTimeout: 60_000, connectTimeout: 15_000 })),
      };
    });
    return this.undici;
  }

  async close(): Promise<void> {
    if (this.undici) await (await this.undici).dispatcher.close();
  }

  /** One request chain (redirects included), without retries. Non-2xx answers other than redirects throw. */
  private async requestOnce(url: string, options: HttpOptions): Promise<HttpResponse> {
    let current = new URL(url);
    this.checkScheme(current, '');
    const headers = { ...options.headers };
    for (let hop = 0; hop <= MAX_REDIRECTS; hop += 1) {
      const { request, dispatcher } = await this.loadUndici();
      const response = await request(current, { method: 'GET', headers, dispatcher, signal: this.signal });
      const location = headerValue(response.headers, 'location');
      if (response.statusCode >= 300 && response.statusCode < 400 && location) {
        await response.body.dump();
        const next = new URL(location, current);
        this.checkScheme(next, ` (a redirect from ${current.href})`);
        if (options.followRedirects === false) {
          return { url: next.href, status: response.statusCode, headers: response.headers, body: response.body };
        }
        // Registries redirect blobs to signed CDN URLs; the registry's token must not travel there.
        if (next.origin !== current.origin) delete headers.authorization;
        current = next;
        continue;
      }
      if (response.statusCode < 200 || response.statusCode >= 300) {
        await response.body.dump();
        throw new HttpStatusError(current.href, response.statusCode, response.headers);
      }
      return { url: current.href, status: response.statusCode, headers: response.headers, body: response.body };
    }
    throw new Error(`more than ${MAX_REDIRECTS} redirects from ${url}`);
  }

  private isRetryable(error: unknown): boolean {
    if (this.signal?.aborted) return false;
    if (error instanceof HttpStatusError) return RETRYABLE_STATUS.has(error.status);
    return !(error instanceof InsecureUrlError || error instanceof BodyTooLargeError);
  }

  /** Runs `attempt` until it succeeds, fails for good, or the attempts or the deadline run out. */
  async withRetries<T>(what: string, attempt: () => Promise<T>): Promise<T> {
    let delay = this.retry.firstDelayMs;
    for (let n = 1; ; n += 1) {
      try {
        this.signal?.throwIfAborted();
        return await attempt();
      } catch (error) {
        const outOfTime = Date.now() + delay > this.retry.deadline;
        if (!this.isRetryable(error) || n >= this.retry.attempts || outOfTime) this.rethrow(error);
        this.log(`${what}: ${describeError(error)}; retry ${n} of ${this.retry.attempts - 1} in ${delay} ms`);
        await sleep(delay, this.signal);
        delay *= 2;
      }
    }
  }

  /** GET with retries; the caller must consume or dump the body. */
  get(url: string, options: HttpOptions = {}): Promise<HttpResponse> {
    return this.withRetries(`GET ${url}`, () => this.requestOnce(url, options));
  }

  /** A small document (manifest, token, checksum file) with its headers; more than `limit.maxBytes` is an error. */
  async getDocument(
    url: string,
    options: HttpOptions = {},
    limit: BodyLimit = { maxBytes: MAX_DOCUMENT_BYTES, what: 'a manifest, token or checksum file' },
  ): Promise<{ bytes: Buffer; headers: HttpResponse['headers'] }> {
    return this.withRetries(`GET ${url}`, async () => {
      const response = await this.requestOnce(url, options);
      const chunks: Buffer[] = [];
      try {
        await pipeline(response.body, limitedCounter(url, limit, (chunk) => chunks.push(chunk)), async (source) => {
          for await (const _ of source) void _;
        });
      } catch (error) {
        this.rethrow(error);
      }
      return { bytes: Buffer.concat(chunks), headers: response.headers };
    });
  }

  async getText(url: string, options: HttpOptions = {}): Promise<string> {
    return (await this.getDocument(url, options)).bytes.toString('utf8');
  }

  /**
   * Streams the body into `file` (created or truncated) and returns the sha256 hex of what was written; more than
   * `limit.maxBytes` stops the download with an error.
   */
  async download(url: string, file: string, limit: BodyLimit, options: HttpOptions = {}): Promise<{ sha256: string; bytes: number }> {
    return this.withRetries(`GET ${url}`, async () => {
      const response = await this.requestOnce(url, options);
      const hash = createHash('sha256');
      let bytes = 0;
      const counter = limitedCounter(url, limit, (chunk) => {
        hash.update(chunk);
        bytes += chunk.length;
      });
      try {
        await pipeline(response.body, counter, createWriteStream(file, { mode: 0o600 }));
      } catch (error) {
        this.rethrow(error);
      }
      return { sha256: hash.digest('hex'), bytes };
    });
  }
}
