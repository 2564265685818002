import assert from 'node:assert/strict';
import { chmodSync, mkdirSync, readFileSync, readdirSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import {
  BLOCK_END,
  BLOCK_START,
  exportLine,
  publishClaudeEnvLine,
  publishProfileBlocks,
  publishProfileD,
  removeBlock,
  removeProfileBlocks,
  removeProfileD,
  upsertBlock,
} from '../../src/profile/blocks.js';
import type { TargetUser } from '../../src/profile/user.js';
import { tempDir } from './helpers/tempDir.js';

const BODY = ['export KUBECONFIG=/home/u/.kube/config'];

function countBlocks(text: string): number {
  return text.split('\n').filter((line) => line === BLOCK_START).length;
}

test('upsertBlock appends one block, then replaces it in place', () => {
  const original = 'alias ll="ls -l"\n';
  const once = upsertBlock(original, BODY);
  assert.equal(once, `${original}${BLOCK_START}\n${BODY[0]}\n${BLOCK_END}\n`);
  assert.equal(upsertBlock(once, BODY), once, 'the same body changes nothing');
  const edited = upsertBlock(once + 'export EDITOR=vi\n', ['export KUBECONFIG=/other']);
  assert.equal(countBlocks(edited), 1);
  assert.ok(edited.includes('export KUBECONFIG=/other\n'));
  assert.ok(edited.endsWith('export EDITOR=vi\n'), 'text after the block stays where it was');
});

test('upsertBlock adds the missing newline of a file and handles an empty file', () => {
  assert.equal(upsertBlock('echo hi', BODY), `echo hi\n${BLOCK_START}\n${BODY[0]}\n${BLOCK_END}\n`);
  assert.equal(upsertBlock('', BODY), `${BLOCK_START}\n${BODY[0]}\n${BLOCK_END}\n`);
});

test('upsertBlock collapses duplicate blocks into one', () => {
  const twice = `a\n${BLOCK_START}\nold\n${BLOCK_END}\nb\n${BLOCK_START}\nolder\n${BLOCK_END}\nc\n`;
  assert.equal(upsertBlock(twice, BODY), `a\n${BLOCK_START}\n${BODY[0]}\n${BLOCK_END}\nb\nc\n`);
});

test('removeBlock restores the original text', () => {
  const original = '# my bashrc\nexport PATH=$PATH:/opt/bin\n';
  assert.equal(removeBlock(upsertBlock(original, BODY)), original);
  assert.equal(removeBlock(original), original);
});

test('a broken block is refused with the line number, never rewritten', () => {
  assert.throws(() => upsertBlock(`x\n${BLOCK_START}\nexport A=1\n`, BODY, '/home/u/.bashrc'), /\/home\/u\/\.bashrc line 2: .* without /);
  assert.throws(() => removeBlock(`${BLOCK_END}\n`, 'f'), /f line 1/);
});

test('exportLine quotes only when the shell needs it', () => {
  assert.equal(exportLine('/home/u/.kube/config'), 'export KUBECONFIG=/home/u/.kube/config');
  assert.equal(exportLine("/home/o'brien/my dir/config"), `export KUBECONFIG='/home/o'\\''brien/my dir/config'`);
});

function fakeHome(): { user: TargetUser; profileDFile: string } {
  const root = tempDir('profile');
  const home = join(root, 'home');
  mkdirSync(home);
  mkdirSync(join(root, 'profile.d'));
  return {
    user: { name: 'tester', uid: process.getuid!(), gid: process.getgid!(), home },
    profileDFile: join(root, 'profile.d', 'k3s-sandbox.sh'),
  };
}

test('publishProfileBlocks edits only existing rc files, keeps their mode, and is idempotent', () => {
  const { user, profileDFile } = fakeHome();
  const bashrc = join(user.home, '.bashrc');
  writeFileSync(bashrc, '# mine\n');
  chmodSync(bashrc, 0o640);
  const changed = publishProfileBlocks(user.home, '/home/tester/.kube/config');
  publishProfileD({ profileDFile });
  assert.ok(changed.includes(bashrc));
  assert.ok(!readdirSync(user.home).includes('.zshrc'), 'no .zshrc is created');
  assert.equal(statSync(bashrc).mode & 0o777, 0o640);
  assert.equal(countBlocks(readFileSync(bashrc, 'utf8')), 1);
  if (process.getuid!() === 0) assert.match(readFileSync(profileDFile, 'utf8'), /export KUBECONFIG="\$HOME\/\.kube\/config"/);
  assert.deepEqual(publishProfileBlocks(user.home, '/home/tester/.kube/config'), [], 'a second run changes nothing');
  assert.equal(publishProfileD({ profileDFile }), false, 'a second run changes nothing');
  assert.equal(readdirSync(user.home).filter((name) => name.endsWith('.tmp')).length, 0, 'no temp file is left');

  const removed = removeProfileBlocks(user.home);
  removeProfileD({ profileDFile });
  assert.ok(removed.includes(bashrc));
  assert.equal(readFileSync(bashrc, 'utf8'), '# mine\n');
});

test('a symlinked dotfile is edited through the link, which stays a link', () => {
  const { user, profileDFile } = fakeHome();
  const real = join(user.home, 'dotfiles-zshrc');
  writeFileSync(real, 'setopt autocd\n');
  symlinkSync(real, join(user.home, '.zshrc'));
  publishProfileBlocks(user.home, '/k');
  publishProfileD({ profileDFile });
  assert.equal(countBlocks(readFileSync(real, 'utf8')), 1);
  assert.ok(readdirSync(user.home).includes('.zshrc'));
  assert.equal(readFileSync(join(user.home, '.zshrc'), 'utf8'), readFileSync(real, 'utf8'));
});

test('publishClaudeEnvLine appends the export line once, after what other hooks wrote', () => {
  const { user } = fakeHome();
  const envFile = join(user.home, 'claude-env');
  assert.equal(publishClaudeEnvLine(undefined, '/k'), false);
  writeFileSync(envFile, 'export NVM_DIR=/x');
  assert.equal(publishClaudeEnvLine(envFile, '/home/u/.kube/config'), true);
  assert.equal(publishClaudeEnvLine(envFile, '/home/u/.kube/config'), false);
  assert.equal(readFileSync(envFile, 'utf8'), 'export NVM_DIR=/x\nexport KUBECONFIG=/home/u/.kube/config\n');
});
