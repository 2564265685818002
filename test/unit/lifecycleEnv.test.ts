import { test } from 'node:test';
import assert from 'node:assert/strict';
import { lifecycleEnv } from '../../src/install/lifecycle-env.js';

test('lifecycle.env carries the validated autoStart, the absolute node and the remote user', () => {
  assert.equal(lifecycleEnv({}, '/usr/local/bin/node', 'vscode'), "K3S_SANDBOX_AUTOSTART=true\nK3S_SANDBOX_NODE='/usr/local/bin/node'\nK3S_SANDBOX_REMOTE_USER=vscode\n");
  assert.match(lifecycleEnv({ autoStart: false }, '/opt/node v20/bin/node', 'root'), /^K3S_SANDBOX_AUTOSTART=false\nK3S_SANDBOX_NODE='\/opt\/node v20\/bin\/node'\n/);
});

const REFUSED: { name: string; node: string; user: string; message: RegExp }[] = [
  { name: 'a relative node', node: 'node', user: 'root', message: /the path to node "node" is not absolute/ },
  { name: 'a quote in the node path', node: "/opt/it's/node", user: 'root', message: /holds a quote/ },
  { name: 'shell in the user name', node: '/usr/bin/node', user: 'vscode; touch /pwned', message: /_REMOTE_USER "vscode; touch \/pwned" is not a plain user name/ },
  { name: 'a user name that looks like an option', node: '/usr/bin/node', user: '-x', message: /is not a plain user name/ },
];

for (const refused of REFUSED) {
  test(`lifecycle.env refuses ${refused.name}`, () => {
    assert.throws(() => lifecycleEnv({}, refused.node, refused.user), refused.message);
  });
}
