import assert from 'node:assert/strict';
import { createServer } from 'node:net';
import { test } from 'node:test';
import { describePortHolders, listeningInodes } from '../../src/diagnose/portHolder.js';

const PROC_NET_TCP = `  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode
   0: 0100007F:192B 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 41234 1 0000000000000000 100 0 0 10 0
   1: 0100007F:192B 0100007F:D2F4 01 00000000:00000000 00:00000000 00000000     0        0 41299 1 0000000000000000 20 4 30 10 -1
   2: 00000000:0016 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 1111 1 0000000000000000 100 0 0 10 0
`;

test('listeningInodes picks the listening socket of the port, not its connections', () => {
  assert.deepEqual(listeningInodes(PROC_NET_TCP, 6443), ['41234']);
  assert.deepEqual(listeningInodes(PROC_NET_TCP, 22), ['1111']);
  assert.deepEqual(listeningInodes(PROC_NET_TCP, 80), []);
});

test('describePortHolders names this process for a port it listens on', async () => {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as { port: number }).port;
  try {
    const holders = describePortHolders(port);
    assert.equal(holders.length, 1);
    assert.match(holders[0], new RegExp(`^${process.pid} \\(.*node`));
  } finally {
    server.close();
  }
});

test('a holder\'s command line is shown in whole words, never cut inside an argument', async () => {
  const { shortCommandLine } = await import('../../src/instance/processes.js');
  const script = 'require("net").createServer().listen(6443, "127.0.0.1", () => console.log("listening"))';
  assert.equal(shortCommandLine(['node', '-e', script]), `node -e ${script}`);
  assert.equal(shortCommandLine(['node', '-e', script, '--and', 'x'.repeat(40)]), `node -e ${script} --and …`);
  assert.equal(shortCommandLine(['a'.repeat(200)]), 'a'.repeat(200), 'one long word is shown whole');
});
