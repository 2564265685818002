import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Agent, createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import * as client from '@kubernetes/client-node';
import { successBodyDiscarded } from '../../src/simnode/replies.js';

/**
 * src/simnode/replies.ts through client-node's own CoreV1Api against a real HTTP server on loopback: a successful
 * reply is not deserialized (and its body is read, so the keep-alive connection serves the next call); a failed reply
 * keeps its Status for the error.
 */

// Larger than the stream buffers between the socket and client-node, so an unread body would hold the connection.
const POD = { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'web', namespace: 'default', uid: 'u1', annotations: { big: 'x'.repeat(1 << 20) } }, status: { phase: 'Running' } };

async function withServer(
  answer: (request: IncomingMessage, response: ServerResponse) => void,
  use: (core: client.CoreV1Api, agent: Agent, connections: () => number) => Promise<void>,
): Promise<void> {
  let connections = 0;
  const server = createServer((request, response) => request.resume().on('end', () => answer(request, response)));
  server.on('connection', () => (connections += 1));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const agent = new Agent({ keepAlive: true, maxSockets: 1 });
  try {
    const kubeConfig = new client.KubeConfig();
    kubeConfig.loadFromOptions({
      clusters: [{ name: 'c', server: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, skipTLSVerify: true }],
      users: [{ name: 'u' }],
      contexts: [{ name: 'x', cluster: 'c', user: 'u' }],
      currentContext: 'x',
    });
    await use(kubeConfig.makeApiClient(client.CoreV1Api), agent, () => connections);
  } finally {
    agent.destroy();
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  }
}

function options(agent: Agent, discard: boolean): client.ConfigurationOptions {
  const header = client.setHeaderMiddleware('Content-Type', 'application/strategic-merge-patch+json');
  const post = successBodyDiscarded(client);
  return {
    middleware: [
      {
        pre: (context) => {
          context.setAgent(agent);
          return header.pre(context);
        },
        post: (response) => (discard ? post(response) : header.post(response)),
      },
    ],
    middlewareMergeStrategy: 'append',
  };
}

const patch = (core: client.CoreV1Api, agent: Agent, discard: boolean) =>
  core.patchNamespacedPodStatus({ name: 'web', namespace: 'default', body: { status: { phase: 'Running' } } }, options(agent, discard));

// An unread body would stall the second call on the one socket: the timeout turns that into a failure.
test('a successful reply is read off the connection but not deserialized; the next call reuses the connection', { timeout: 20_000 }, async () => {
  await withServer(
    (_request, response) => response.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(POD)),
    async (core, agent, connections) => {
      // Without it client-node hands back the whole Pod.
      assert.equal((await patch(core, agent, false)).metadata?.name, 'web');
      const first = await patch(core, agent, true);
      const second = await patch(core, agent, true);
      assert.equal(first.metadata, undefined);
      assert.equal(second.status, undefined);
      assert.equal(connections(), 1, 'all three calls used one keep-alive connection');
    },
  );
});

test('a failed reply keeps its status code and the API server\'s message', async () => {
  const status = { kind: 'Status', apiVersion: 'v1', status: 'Failure', message: 'pods "web" not found', reason: 'NotFound', code: 404 };
  await withServer(
    (_request, response) => response.writeHead(404, { 'content-type': 'application/json' }).end(JSON.stringify(status)),
    async (core, agent) => {
      await assert.rejects(patch(core, agent, true), (error: unknown) => {
        assert.ok(error instanceof client.ApiException, String(error));
        assert.equal(error.code, 404);
        assert.match(String(error.body), /pods \\?"web\\?" not found/);
        return true;
      });
    },
  );
});
