import { createHash } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { pipeline } from 'node:stream/promises';
import { Transform } from 'node:stream';
import { EnvHttpProxyAgent, request, type Dispatcher } from 'undici';

/**
 * HTTP for the installer: HTTPS_PROXY/HTTP_PROXY/NO_PROXY through undici's EnvHttpProxyAgent (Node's global fetch
 * ignores them before Node 24), NODE_EXTRA_CA_CERTS through Node's default TLS trust store, manual redirects so an
 * Authorization header never follows a redirect to another host, and retries with backoff inside a total deadline.
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

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
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

export class HttpClient {
  private readonly dispatcher: Dispatcher;

  constructor(
    private readonly retry: RetryPolicy,
    private readonly log: (line: string) => void,
  ) {
    this.dispatcher = withoutExperimentalWarning(
      () => new EnvHttpProxyAgent({ headersTimeout: 30_000, bodyTimeout: 60_000, connectTimeout: 15_000 }),
    );
  }

  async close(): Promise<void> {
    await this.dispatcher.close();
  }

  /** One request chain (redirects included), without retries. Non-2xx answers other than redirects throw. */
  private async requestOnce(url: string, options: HttpOptions): Promise<HttpResponse> {
    let current = new URL(url);
    const headers = { ...options.headers };
    for (let hop = 0; hop <= MAX_REDIRECTS; hop += 1) {
      const response = await request(current, { method: 'GET', headers, dispatcher: this.dispatcher });
      const location = headerValue(response.headers, 'location');
      if (response.statusCode >= 300 && response.statusCode < 400 && location) {
        await response.body.dump();
        const next = new URL(location, current);
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
    if (error instanceof HttpStatusError) return RETRYABLE_STATUS.has(error.status);
    return true;
  }

  /** Runs `attempt` until it succeeds, fails for good, or the attempts or the deadline run out. */
  async withRetries<T>(what: string, attempt: () => Promise<T>): Promise<T> {
    let delay = this.retry.firstDelayMs;
    for (let n = 1; ; n += 1) {
      try {
        return await attempt();
      } catch (error) {
        const outOfTime = Date.now() + delay > this.retry.deadline;
        if (!this.isRetryable(error) || n >= this.retry.attempts || outOfTime) throw error;
        this.log(`${what}: ${describeError(error)}; retry ${n} of ${this.retry.attempts - 1} in ${delay} ms`);
        await sleep(delay);
        delay *= 2;
      }
    }
  }

  /** GET with retries; the caller must consume or dump the body. */
  get(url: string, options: HttpOptions = {}): Promise<HttpResponse> {
    return this.withRetries(`GET ${url}`, () => this.requestOnce(url, options));
  }

  async getText(url: string, options: HttpOptions = {}): Promise<string> {
    return this.withRetries(`GET ${url}`, async () => (await this.requestOnce(url, options)).body.text());
  }

  async getBytes(url: string, options: HttpOptions = {}): Promise<Buffer> {
    return this.withRetries(`GET ${url}`, async () => {
      const response = await this.requestOnce(url, options);
      return Buffer.from(await response.body.arrayBuffer());
    });
  }

  /** Streams the body into `file` (created or truncated) and returns the sha256 hex of what was written. */
  async download(url: string, file: string, options: HttpOptions = {}): Promise<string> {
    return this.withRetries(`GET ${url}`, async () => {
      const response = await this.requestOnce(url, options);
      const hash = createHash('sha256');
      const hasher = new Transform({
        transform(chunk: Buffer, _encoding, done) {
          hash.update(chunk);
          done(null, chunk);
        },
      });
      await pipeline(response.body, hasher, createWriteStream(file, { mode: 0o600 }));
      return hash.digest('hex');
    });
  }
}
