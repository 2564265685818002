/**
 * The readiness checks wait, launch and status use: an authenticated GET /readyz with the admin client
 * cert from the kubeconfig k3s writes (anonymous requests get 401 from k3s), and for agent modes the
 * node's Ready condition.
 *
 * client-node reads the kubeconfig and turns it into TLS material. Loading client-node costs several
 * hundred milliseconds, so the result is cached (mode 600, next to the admin kubeconfig, keyed by that
 * file's inode, mtime and size): a warm `up` and `status` only read the cache and ask /readyz once over a plain TLS
 * socket (readyzOnce: Node's HTTP stack is not loaded for it, which in gVisor is a large part of their start-up).
 * Polling reuses one keep-alive HTTPS agent, so polling every 50 ms costs one TLS handshake, not one per poll.
 */
import { readFileSync } from 'node:fs';
import type { Agent } from 'node:https';
import { createRequire } from 'node:module';
import type { SocketConstructorOpts } from 'node:net';
import type { ConnectionOptions, TLSSocket } from 'node:tls';
import type { KubeConfig } from '@kubernetes/client-node';
import { fileStamp, replaceFile } from '../files.js';

/** node:https loads on first use: only wait's poll and the simulated node's checks use it, never `status` or a warm `up`. */
const requireOnUse = createRequire(import.meta.url);
const https = (): typeof import('node:https') => requireOnUse('node:https') as typeof import('node:https');

export interface ApiIdentity {
  server: string;
  /** The CA k3s wrote into the kubeconfig: the server's certificate must chain to it, so only our k3s can answer. */
  ca: string;
  cert: string;
  key: string;
  /** The kubeconfig this came from, and its inode:mtime:size when read. */
  source: string;
  stamp: string;
}

export interface ReadyzAnswer {
  /** HTTP status, or undefined when no answer came (connection refused, timeout). */
  status?: number;
  body?: string;
  error?: string;
  /** The TLS handshake failed: the server's certificate is not signed by our CA, or it does not speak TLS. */
  notOurServer?: boolean;
}

const REQUEST_TIMEOUT_MS = 2000;

function stampOf(file: string): string {
  const stamp = fileStamp(file);
  if (stamp === undefined) throw new Error(`${file} does not exist`);
  return stamp;
}

function asText(value: unknown): string | undefined {
  if (value === undefined || value === null) return undefined;
  return Buffer.isBuffer(value) ? value.toString('utf8') : String(value);
}

/** client-node's view of the source: the whole file, or only the named context of a user's file. */
async function loadKubeConfig(source: Pick<ReadinessSource, 'kubeconfig' | 'context'>): Promise<KubeConfig> {
  const { KubeConfig } = await import('@kubernetes/client-node');
  const kubeConfig = new KubeConfig();
  if (!source.context) {
    kubeConfig.loadFromFile(source.kubeconfig);
    return kubeConfig;
  }
  const { extractContext } = await import('./kubeconfig.js');
  kubeConfig.loadFromString(extractContext(readFileSync(source.kubeconfig, 'utf8'), source.context, source.kubeconfig));
  return kubeConfig;
}

/** Reads the kubeconfig (at `context`, else its current one) with client-node; throws if it is missing or unusable. */
async function identityFromKubeconfig(kubeconfigFile: string, context?: string): Promise<ApiIdentity> {
  const stamp = stampOf(kubeconfigFile);
  const kubeConfig = await loadKubeConfig({ kubeconfig: kubeconfigFile, context });
  const cluster = kubeConfig.getCurrentCluster();
  if (!cluster) throw new Error(`${kubeconfigFile} names no current cluster`);
  const tls: { ca?: unknown; cert?: unknown; key?: unknown } = {};
  await kubeConfig.applyToHTTPSOptions(tls);
  const cert = asText(tls.cert);
  const key = asText(tls.key);
  const ca = asText(tls.ca);
  if (!cert || !key) throw new Error(`${kubeconfigFile} has no client certificate and key`);
  if (!ca) throw new Error(`${kubeconfigFile} has no certificate-authority-data, so the server cannot be verified`);
  return { server: cluster.server, ca, cert, key, source: kubeconfigFile, stamp };
}

/** Where the credentials for /readyz come from: a kubeconfig, the context in it, and the cache for it. */
export interface ReadinessSource {
  kubeconfig: string;
  /** Unset: the file's current context (k3s's admin kubeconfig has only one). */
  context?: string;
  cacheFile?: string;
}

/**
 * The source's cached identity while it still matches the kubeconfig; undefined when there is no cache, or it is stale
 * or unreadable. Synchronous and never loads client-node, so a caller can open the /readyz connection at once.
 */
export function cachedIdentity(source: ReadinessSource): ApiIdentity | undefined {
  if (!source.cacheFile) return undefined;
  try {
    const cached = JSON.parse(readFileSync(source.cacheFile, 'utf8')) as ApiIdentity;
    if (cached.source === source.kubeconfig && cached.ca && cached.stamp === stampOf(source.kubeconfig)) return cached;
  } catch {
    // No cache yet, an unreadable one, or no kubeconfig to check it against.
  }
  return undefined;
}

/**
 * The TLS identity for a source, from its cache file when that still matches the kubeconfig, else
 * from client-node (refreshing the cache when there is one and it is writable).
 */
export async function loadIdentity(source: ReadinessSource): Promise<ApiIdentity> {
  const cached = cachedIdentity(source);
  if (cached) return cached;
  const { kubeconfig: kubeconfigFile, context, cacheFile } = source;
  const identity = await identityFromKubeconfig(kubeconfigFile, context);
  if (cacheFile) {
    try {
      replaceFile(cacheFile, JSON.stringify(identity), { mode: 0o600 });
    } catch {
      // Not ours to write (non-root): the next call reads the kubeconfig again.
    }
  }
  return identity;
}

/** An agent that trusts only the CA k3s wrote (never the system roots, never unverified), with the client cert. */
export function agentFor(identity: ApiIdentity, keepAlive: boolean): Agent {
  return new (https().Agent)({ keepAlive, maxSockets: 1, ca: identity.ca, cert: identity.cert, key: identity.key, rejectUnauthorized: true });
}

/** TLS failures that mean the answering server is not the k3s whose CA we hold (node's and OpenSSL's error codes). */
const NOT_OUR_SERVER = new Set([
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'UNABLE_TO_GET_ISSUER_CERT',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'CERT_SIGNATURE_FAILURE',
  'ERR_TLS_CERT_ALTNAME_INVALID',
  'ERR_SSL_WRONG_VERSION_NUMBER',
  'EPROTO',
]);

/** GET /readyz with the identity's client cert. */
export function readyz(identity: ApiIdentity, agent: Agent): Promise<ReadyzAnswer> {
  const server = new URL(identity.server);
  return new Promise((resolve) => {
    const req = https().request(
      { agent, protocol: server.protocol, hostname: server.hostname, port: server.port, path: '/readyz', method: 'GET', timeout: REQUEST_TIMEOUT_MS },
      (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => (body += chunk));
        res.on('end', () => resolve({ status: res.statusCode, body: body.trim() }));
        res.on('error', (error) => resolve({ error: error.message }));
      },
    );
    req.on('timeout', () => req.destroy(new Error(`no answer within ${REQUEST_TIMEOUT_MS} ms`)));
    req.on('error', (error: NodeJS.ErrnoException) => resolve({ error: error.message, notOurServer: NOT_OUR_SERVER.has(error.code ?? '') }));
    req.end();
  });
}

/** The status line of an HTTP/1.x answer: `HTTP/1.1 200 OK`. */
const STATUS_LINE = /^HTTP\/1\.[01] (\d{3})(?: |$)/;

/** A readyzOnce() under way. */
export interface PendingReadyz {
  /**
   * Settles once the ClientHello is out (or the connection failed): synchronous work a caller does after awaiting it
   * runs while the server does its half of the handshake. Before the event loop has run once, only the TCP connect
   * is under way: tls.connect writes the ClientHello from the socket's 'connect' event.
   */
  sent: Promise<void>;
  answer: Promise<ReadyzAnswer>;
  /** Closes the connection unasked (the caller found nothing to ask about); the answer is then an error. */
  cancel(): void;
}

/**
 * One GET /readyz on a fresh TLS connection, for a single check (inspect): the same client cert, the same trust (only
 * the CA k3s wrote, the host name checked against the server's certificate) and the same timeout as readyz(), but
 * over node:tls, reading only the status line, so that `status` and a warm `up` do not load Node's HTTP stack.
 * The connection opens before this returns. Answers `{ status }` (no body), or `{ error, notOurServer }` like readyz().
 */
export function readyzOnce(identity: ApiIdentity): PendingReadyz {
  const server = new URL(identity.server);
  const host = server.hostname.replace(/^\[(.*)\]$/, '$1');
  const { connect } = requireOnUse('node:tls') as typeof import('node:tls');
  const { isIP } = requireOnUse('node:net') as typeof import('node:net');
  const options: ConnectionOptions & Pick<SocketConstructorOpts, 'allowHalfOpen'> = {
    host,
    port: Number(server.port || 443),
    ...(isIP(host) ? {} : { servername: host }),
    ca: identity.ca,
    cert: identity.cert,
    key: identity.key,
    rejectUnauthorized: true,
    timeout: REQUEST_TIMEOUT_MS,
    // Our side stays open when the server closes its own after the answer (see finish).
    allowHalfOpen: true,
  };
  let socket: TLSSocket;
  try {
    socket = connect(options, () => socket.write(`GET /readyz HTTP/1.1\r\nHost: ${server.host}\r\nConnection: close\r\n\r\n`));
  } catch (error) {
    // Credentials Node cannot use (a damaged identity cache) fail like a handshake would, not the caller.
    const failed = Promise.resolve<ReadyzAnswer>({ error: error instanceof Error ? error.message : String(error) });
    return { sent: failed.then(() => undefined), answer: failed, cancel: () => undefined };
  }
  let settled = false;
  let settle: (result: ReadyzAnswer) => void = () => undefined;
  const answer = new Promise<ReadyzAnswer>((resolve) => (settle = resolve));
  /**
   * Settles the answer once. A socket that has answered is not torn down but unref()'d: it no longer holds the
   * process, so `status` exits as soon as it has printed. Destroying it would cost a close first and, in net's
   * _destroy, the creation of process.stderr (together about 2 ms in gVisor). The server closes its side after the
   * answer (`Connection: close`); in a process that lives on, the idle timeout ends ours. Failures tear it down.
   */
  const finish = (result: ReadyzAnswer, keepOpen = false): void => {
    if (settled) return;
    settled = true;
    settle(result);
    if (keepOpen) socket.unref();
    else socket.destroy();
  };
  // tls.connect added its own 'connect' listener (the one that starts the handshake) first, so this one runs after it.
  const sent = new Promise<void>((resolve) => {
    socket.once('connect', () => resolve());
    void answer.then(() => resolve());
  });
  let head = '';
  // Bytes as latin1, one character each: no decoder needed across chunks (setEncoding would load one).
  socket.on('data', (chunk: Buffer) => {
    head += chunk.toString('latin1');
    const lineEnd = head.indexOf('\r\n');
    if (lineEnd < 0 && head.length < 1024) return;
    const status = STATUS_LINE.exec(lineEnd < 0 ? head : head.slice(0, lineEnd));
    if (status) finish({ status: Number(status[1]) }, true);
    else finish({ error: `not an HTTP answer: ${JSON.stringify(head.slice(0, 80))}` });
  });
  socket.on('timeout', () => socket.destroy(new Error(`no answer within ${REQUEST_TIMEOUT_MS} ms`)));
  socket.on('error', (error: NodeJS.ErrnoException) => finish({ error: error.message, notOurServer: NOT_OUR_SERVER.has(error.code ?? '') }));
  // With allowHalfOpen a server's close before the answer shows as 'end' only.
  socket.on('end', () => finish({ error: 'the connection closed before an answer' }));
  socket.on('close', () => finish({ error: 'the connection closed before an answer' }));
  return { sent, answer, cancel: () => finish({ error: 'cancelled before the answer' }) };
}

/** Name of a node whose Ready condition is True, if any (client-node's CoreV1Api). */
export async function readyNodeName(source: ReadinessSource): Promise<string | undefined> {
  const { CoreV1Api } = await import('@kubernetes/client-node');
  const kubeConfig = await loadKubeConfig(source);
  const nodes = await kubeConfig.makeApiClient(CoreV1Api).listNode();
  const ready = nodes.items.find((node) =>
    node.status?.conditions?.some((condition) => condition.type === 'Ready' && condition.status === 'True'),
  );
  return ready?.metadata?.name;
}
