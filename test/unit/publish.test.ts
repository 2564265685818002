// The publish step's input check: the user is resolved before anything starts, and a bad name is bad input.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ConfigError } from '../../src/config.js';
import { targetUser } from '../../src/steps/publish.js';

test('targetUser rejects a name that is no login name, and an empty one, as bad input', () => {
  for (const name of ['a;b', '', '../root', 'x y', '-rf']) {
    assert.throws(() => targetUser(name, {}), (error: unknown) => error instanceof ConfigError && /is not a user name/.test(error.message), name);
  }
});

test('targetUser rejects an unknown account as bad input, naming where the name came from', () => {
  assert.throws(() => targetUser('no-such-user-k3s', {}), (error: unknown) => error instanceof ConfigError && /"no-such-user-k3s" \(from --user\) does not exist/.test(error.message));
  assert.throws(() => targetUser(undefined, { _REMOTE_USER: 'no-such-user-k3s' }), /from \$_REMOTE_USER/);
});

test('targetUser resolves an existing account from the passwd database', () => {
  const root = targetUser('root', {});
  assert.equal(root.uid, 0);
  assert.equal(root.name, 'root');
  assert.equal(root.home, '/root');
});
