// readyzOnce, the one-shot /readyz that inspect() (status, a warm up) asks over a plain TLS socket: it must trust and
// authenticate exactly as the HTTPS poll does (only our CA, the server's name checked, our client cert presented) and
// read the answer's status, against real TLS servers on loopback.
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { createServer as createHttpsServer, type Server } from 'node:https';
import { createServer as createNetServer, type AddressInfo } from 'node:net';
import { join } from 'node:path';
import { test } from 'node:test';
import { createServer as createTlsServer, type TLSSocket } from 'node:tls';
import { readyzOnce, type ApiIdentity } from '../../src/kube/readiness.js';
import { tempDir } from './helpers/tempDir.js';

/** Our CA, a server cert for 127.0.0.1 and an admin client cert signed by it, and a stranger's self-signed server cert. */
function certificates(): (name: string) => string {
  const dir = tempDir('readyz-once');
  const ssl = (...args: string[]) => execFileSync('openssl', args, { cwd: dir, stdio: 'ignore' });
  const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];
  ssl('req', '-x509', ...ec, '-keyout', 'ca.key', '-out', 'ca.crt', '-subj', '/CN=k3s-server-ca', '-days', '1');
  for (const [name, subject, ext] of [
    ['server', '/CN=k3s', 'subjectAltName=IP:127.0.0.1'],
    ['admin', '/CN=system:admin/O=system:masters', 'extendedKeyUsage=clientAuth'],
  ]) {
    writeFileSync(join(dir, `${name}.ext`), `${ext}\n`);
    ssl('req', ...ec, '-keyout', `${name}.key`, '-out', `${name}.csr`, '-subj', subject);
    ssl('x509', '-req', '-in', `${name}.csr`, '-CA', 'ca.crt', '-CAkey', 'ca.key', '-CAcreateserial', '-out', `${name}.crt`, '-days', '1', '-extfile', `${name}.ext`);
  }
  ssl('req', '-x509', ...ec, '-keyout', 'other.key', '-out', 'other.crt', '-subj', '/CN=127.0.0.1', '-addext', 'subjectAltName=IP:127.0.0.1', '-days', '1');
  return (name) => readFileSync(join(dir, name), 'utf8');
}

const read = certificates();
const identity = (port: number, server = `https://127.0.0.1:${port}`): ApiIdentity => ({
  server,
  ca: read('ca.crt'),
  cert: read('admin.crt'),
  key: read('admin.key'),
  source: '/nonexistent/k3s.yaml',
  stamp: '1:1:1',
});

async function listening(server: Server | ReturnType<typeof createNetServer> | ReturnType<typeof createTlsServer>): Promise<number> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return (server.address() as AddressInfo).port;
}

/** A server signed by our CA that requires a client cert from it and answers /readyz with `status`. */
async function withOurServer(status: number, body: string, run: (port: number, clients: string[]) => Promise<void>): Promise<void> {
  const clients: string[] = [];
  const server = createHttpsServer({ key: read('server.key'), cert: read('server.crt'), ca: read('ca.crt'), requestCert: true, rejectUnauthorized: true }, (req, res) => {
    clients.push(`${req.method} ${req.url} ${(req.socket as TLSSocket).getPeerCertificate().subject.CN}`);
    res.writeHead(status, { 'content-type': 'text/plain' }).end(body);
  });
  try {
    await run(await listening(server), clients);
  } finally {
    server.close();
  }
}

test('readyzOnce: 200 from our server, which saw GET /readyz with our client certificate', async () => {
  await withOurServer(200, 'ok', async (port, clients) => {
    assert.deepEqual(await readyzOnce(identity(port)).answer, { status: 200 });
    assert.deepEqual(clients, ['GET /readyz system:admin']);
  });
});

test('readyzOnce: a not-ready answer (500, a body larger than one read) is that status, not 200', async () => {
  await withOurServer(500, '[-]poststarthook/x failed: reason withheld\n'.repeat(2000), async (port) => {
    assert.deepEqual(await readyzOnce(identity(port)).answer, { status: 500 });
  });
});

test('readyzOnce: a server whose certificate is not from our CA is not ours, and is never asked', async () => {
  let asked = false;
  const stranger = createHttpsServer({ key: read('other.key'), cert: read('other.crt') }, (_req, res) => {
    asked = true;
    res.end('ok');
  });
  try {
    const answer = await readyzOnce(identity(await listening(stranger))).answer;
    assert.equal(answer.status, undefined);
    assert.equal(answer.notOurServer, true, JSON.stringify(answer));
    assert.equal(asked, false);
  } finally {
    stranger.close();
  }
});

test('readyzOnce: our certificate presented under another name (localhost, not in its SANs) is refused', async () => {
  await withOurServer(200, 'ok', async (port, clients) => {
    const answer = await readyzOnce(identity(port, `https://localhost:${port}`)).answer;
    assert.equal(answer.status, undefined);
    assert.equal(answer.notOurServer, true, JSON.stringify(answer));
    assert.deepEqual(clients, []);
  });
});

test('readyzOnce: nothing listening, and a server that is not TLS, give an error and no status', async () => {
  const plain = createNetServer((socket) => socket.end('HTTP/1.1 200 OK\r\n\r\nok'));
  const port = await listening(plain);
  try {
    const notTls = await readyzOnce(identity(port)).answer;
    assert.equal(notTls.status, undefined);
    assert.ok(notTls.error, JSON.stringify(notTls));
  } finally {
    plain.close();
  }
  const refused = await readyzOnce(identity(port)).answer;
  assert.equal(refused.status, undefined);
  assert.match(refused.error ?? '', /ECONNREFUSED/);
});

/** A TLS server signed by our CA, requiring our client cert, that does `onRequest` with each connection once it is secure. */
async function withRawTlsServer(onRequest: (socket: TLSSocket) => void, run: (port: number) => Promise<void>): Promise<void> {
  const sockets: TLSSocket[] = [];
  const server = createTlsServer({ key: read('server.key'), cert: read('server.crt'), ca: read('ca.crt'), requestCert: true, rejectUnauthorized: true }, (socket) => {
    sockets.push(socket);
    onRequest(socket);
  });
  try {
    await run(await listening(server));
  } finally {
    for (const socket of sockets) socket.destroy();
    server.close();
  }
}

test('readyzOnce: a request cancelled once its ClientHello is out settles at once with an error; the server sees no GET', async () => {
  await withOurServer(200, 'ok', async (port, clients) => {
    const request = readyzOnce(identity(port));
    await request.sent;
    request.cancel();
    const answer = await request.answer;
    assert.equal(answer.status, undefined);
    assert.match(answer.error ?? '', /cancelled/);
    await new Promise((resolve) => setTimeout(resolve, 200));
    assert.deepEqual(clients, []);
  });
});

test('readyzOnce: a server that closes without answering is an error at once, not after the 2-s timeout', async () => {
  await withRawTlsServer(
    (socket) => socket.end(),
    async (port) => {
      const started = performance.now();
      const answer = await readyzOnce(identity(port)).answer;
      assert.equal(answer.status, undefined);
      assert.match(answer.error ?? '', /closed before an answer/);
      assert.ok(performance.now() - started < 1000, `took ${performance.now() - started} ms`);
    },
  );
});

test('readyzOnce: once answered, the connection does not hold the process, even when the server keeps it open', async () => {
  await withRawTlsServer(
    (socket) => socket.once('data', () => socket.write('HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok')),
    async (port) => {
      // A process that asks and then has nothing left to do, as `status` after printing: it must exit at once.
      const script = [
        `import { readyzOnce } from ${JSON.stringify(new URL('../../src/kube/readiness.ts', import.meta.url).href)};`,
        'const answer = await readyzOnce(JSON.parse(process.env.IDENTITY)).answer;',
        'const answeredAt = performance.now();',
        "process.on('exit', () => console.log(JSON.stringify({ answer, exitAfterMs: performance.now() - answeredAt })));",
      ].join('\n');
      const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
        env: { ...process.env, IDENTITY: JSON.stringify(identity(port)) },
        stdio: ['ignore', 'pipe', 'inherit'],
      });
      let out = '';
      child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
      const code = await new Promise((resolve) => child.on('close', resolve));
      assert.equal(code, 0, out);
      const { answer, exitAfterMs } = JSON.parse(out) as { answer: unknown; exitAfterMs: number };
      assert.deepEqual(answer, { status: 200 });
      assert.ok(exitAfterMs < 1000, `exited ${exitAfterMs} ms after the answer (the request's timeout is 2000 ms)`);
    },
  );
});

test('readyzOnce: credentials Node cannot use (a damaged identity cache) are an error answer, not a throw', async () => {
  const request = readyzOnce({ ...identity(1), key: 'not a key' });
  await request.sent;
  const answer = await request.answer;
  assert.equal(answer.status, undefined);
  assert.ok(answer.error, JSON.stringify(answer));
});
