import { spawnSync } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestContext } from 'node:test';
import { REPO } from './repo.js';

export interface GvisorRun {
  status: number | null;
  output: string;
}

/**
 * Runs a command in a fresh gVisor sandbox (`runsc do`) over this machine's root, from the repo root, and returns its
 * exit status and combined output. runsc loses output written straight to a pipe (see test/lib/common.bash), so the
 * output goes through a file. Returns undefined after marking the test skipped when runsc is not installed
 * (test/deps.sh installs it, so the suite never skips it there). netRaw adds runsc's --net-raw (CAP_NET_RAW, which
 * gVisor's iptables needs).
 */
export function runInGvisor(t: TestContext, command: string[], options: { netRaw?: boolean } = {}): GvisorRun | undefined {
  if (spawnSync('sh', ['-c', 'command -v runsc']).status !== 0) {
    t.skip('runsc is not installed (test/deps.sh installs it)');
    return undefined;
  }
  const dir = mkdtempSync(join(tmpdir(), 'k3s-sandbox-gvisor-'));
  try {
    const outputFile = join(dir, 'output');
    const fd = openSync(outputFile, 'w');
    const result = spawnSync('runsc', ['--network=none', ...(options.netRaw ? ['--net-raw'] : []), '--platform=ptrace', 'do', ...command], {
      cwd: REPO,
      stdio: ['ignore', fd, fd],
      timeout: 120_000,
    });
    closeSync(fd);
    return { status: result.status, output: readFileSync(outputFile, 'utf8') };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
