#!/usr/bin/env node
// Real-Kubernetes start-up benchmark (issue 9): on the upstream-assembled k3s (build/fixtures/k3s-upstream, the real
// kube-apiserver), in gVisor (runsc --platform=ptrace, --network=none) and natively (private net, mount and pid
// namespaces, scratch dirs on tmpfs), interleaved round by round, each measure from an empty data dir:
//   up        `k3s-sandbox up` (control-plane) from its start to its return;
//   floor     the same `k3s server` argv started by hand, to its first authenticated 200 on /readyz, polled every 50 ms
//             (one request in flight): the lower bound no launcher can beat;
//   seeds     the seeds' recipe: start the same k3s server, then `kubectl get --raw /healthz` once a second until it works.
// Also the API server's resident memory (VmRSS of the k3s process) once ready. Prints a Markdown table for BENCHMARKS.md.
//   node bench/real-k8s/bench.mjs [--runs N] [--save rounds.json]   (root; needs npm run build and
//   test/fixtures/k3s-upstream/build.sh; the raw rounds go to --save, default /tmp/k3s-sandbox-real-k8s-rounds.json)
import { spawn } from 'node:child_process';
import { Agent, request } from 'node:https';
import { $, argv, fs, path, sleep } from 'zx';

const root = path.resolve(path.dirname(new URL(import.meta.url).pathname), '../..');
const fixtures = path.join(root, 'build/fixtures');
// A round runs the snapshot the main process took (--k3s, --bundle), so a rebuild meanwhile cannot swap files under it.
const k3s = argv.k3s ?? path.join(fixtures, 'k3s-upstream');
const bundle = argv.bundle ?? path.join(root, 'dist/k3s-sandbox.cjs');
const runs = Number(argv.runs ?? 5);
const MEASURES = ['up', 'floor', 'seeds'];
const TARGET_UP_OVER_FLOOR = 1.05;

const nowMs = () => performance.timeOrigin + performance.now();
/** The median of the numbers among values (NaN, saved as null, when a log line was missing): NaN when there are none. */
const median = (values) => {
  const sorted = values.filter((v) => typeof v === 'number' && !Number.isNaN(v)).sort((a, b) => a - b);
  if (sorted.length === 0) return NaN;
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
};

/** Wall-clock ms of the first k3s log line (logrus text format, RFC3339Nano) whose msg starts with `text`. */
function logTime(log, text) {
  const match = new RegExp(`time="([^"]+)" level=info msg="${text}`).exec(log);
  if (!match) return NaN;
  const [, whole, fraction = ''] = /^(.*?\d\d:\d\d:\d\d)(?:\.(\d+))?Z$/.exec(match[1]);
  return Date.parse(`${whole}Z`) + Number(`0.${fraction || '0'}`) * 1000;
}

/** One round inside gVisor or the native namespaces: each measure once, in the order given. */
async function round(where, order, scratch) {
  const dirs = { state: `${scratch}/run`, log: `${scratch}/log`, lib: `${scratch}/lib`, data: `${scratch}/data`, cni: `${scratch}/cni` };
  const adminKubeconfig = `${dirs.state}/k3s.yaml`;
  // The plan's control-plane argv with no default route (planControlPlane); checked against instance.json below.
  const k3sArgs = ['server', `--data-dir=${dirs.data}`, '--https-listen-port=6443', `--write-kubeconfig=${adminKubeconfig}`, '--write-kubeconfig-mode=600',
    '--disable-agent', '--egress-selector-mode=disabled', '--bind-address=127.0.0.1', '--node-ip=127.0.0.1',
    '--disable=coredns,servicelb,traefik,local-storage,metrics-server'];
  const env = {
    ...process.env,
    K3S_SANDBOX_K3S: k3s, K3S_SANDBOX_BIN_DIR: fixtures, K3S_SANDBOX_MODE: 'control-plane',
    K3S_SANDBOX_STATE_DIR: dirs.state, K3S_SANDBOX_LOG_DIR: dirs.log, K3S_SANDBOX_LIB_DIR: dirs.lib, K3S_SANDBOX_DATA_DIR: dirs.data,
    K3S_UPSTREAM_GLOBAL_KUBECONFIG: `${scratch}/global-k3s.yaml`,
  };
  delete env.CLAUDE_ENV_FILE;
  // The host-local stand-in on PATH for the servers started by hand, as the plan gives k3s its own.
  fs.mkdirpSync(dirs.cni);
  fs.writeFileSync(`${dirs.cni}/host-local`, '#!/bin/sh\nexit 0\n', { mode: 0o755 });
  const handEnv = { ...env, PATH: `${dirs.cni}:${env.PATH}` };
  const reset = () => {
    for (const dir of [dirs.state, dirs.log, dirs.lib, dirs.data]) fs.removeSync(dir);
    fs.mkdirpSync(dirs.state);
  };
  const rssKb = (pid) => Number(/VmRSS:\s+(\d+) kB/.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? NaN);
  // Page the binaries in before the first measure, so no measure pays for that alone.
  await $`${k3s} --version`.quiet();
  await $({ env })`node ${bundle} --help`.quiet();

  /** Starts `k3s server` by hand, its log in handLog; resolves its stop (SIGTERM, then its exit). */
  const handLog = `${scratch}/hand.log`;
  const startByHand = () => {
    const child = spawn(k3s, k3sArgs, { env: handEnv, stdio: ['ignore', 'ignore', fs.openSync(handLog, 'w')] });
    const exited = new Promise((resolve) => child.once('exit', resolve));
    return { child, stop: async () => (child.kill('SIGTERM'), await exited) };
  };

  const measure = {
    async up() {
      reset();
      const start = nowMs();
      await $({ env })`node ${bundle} up`.quiet();
      const ms = nowMs() - start;
      const status = JSON.parse(fs.readFileSync(`${dirs.state}/status.json`, 'utf8'));
      const planned = JSON.parse(fs.readFileSync(`${dirs.state}/instance.json`, 'utf8')).k3sArgs;
      if (JSON.stringify(planned) !== JSON.stringify(k3sArgs)) throw new Error(`the plan's argv differs from the one started by hand: ${JSON.stringify(planned)}`);
      const rss = rssKb(status.childPid);
      await $({ env })`node ${bundle} down`.quiet();
      const log = fs.readFileSync(`${dirs.log}/k3s.log`, 'utf8');
      // Where the time goes: before k3s logs its first line, and after it logs that it is up.
      return { ms, rss, beforeK3s: logTime(log, 'Starting k3s') - start, afterK3sUp: start + ms - logTime(log, 'k3s is up and running') };
    },
    async floor() {
      reset();
      const tls = `${dirs.data}/server/tls`;
      const start = nowMs();
      const server = startByHand();
      // One request in flight at a time, over one keep-alive connection: a connection made before the apiserver serves
      // waits in its backlog and is answered the moment it does, so nothing is lost by waiting for it; a burst of
      // concurrent handshakes would instead slow the server it measures.
      const agent = new Agent({ keepAlive: true, maxSockets: 1 });
      const readyzStatus = (identity) =>
        new Promise((resolve) => {
          const req = request({ host: '127.0.0.1', port: 6443, path: '/readyz', agent, timeout: 10_000, ...identity }, (res) => {
            res.resume();
            res.on('end', () => resolve(res.statusCode));
          });
          req.on('timeout', () => req.destroy(new Error('timeout')));
          req.on('error', () => resolve(undefined));
          req.end();
        });
      let ms;
      for (;;) {
        if (server.child.exitCode !== null) throw new Error(`k3s exited (${server.child.exitCode})`);
        let identity;
        try {
          identity = { ca: fs.readFileSync(`${tls}/server-ca.crt`), cert: fs.readFileSync(`${tls}/client-admin.crt`), key: fs.readFileSync(`${tls}/client-admin.key`) };
        } catch {
          identity = undefined; // not written yet
        }
        if (identity && (await readyzStatus(identity)) === 200) {
          ms = nowMs() - start;
          break;
        }
        await sleep(50);
      }
      agent.destroy();
      const rss = rssKb(server.child.pid);
      await server.stop();
      const log = fs.readFileSync(handLog, 'utf8');
      return { ms, rss, beforeK3s: logTime(log, 'Starting k3s') - start, afterK3sUp: start + ms - logTime(log, 'k3s is up and running') };
    },
    async seeds() {
      reset();
      const start = nowMs();
      const server = startByHand();
      await $({ env: { ...env, KUBECONFIG: adminKubeconfig } })`until ${k3s} kubectl get --raw /healthz >/dev/null 2>&1; do sleep 1; done`.quiet();
      const ms = nowMs() - start;
      await server.stop();
      return { ms };
    },
  };
  const result = { where };
  for (const name of order) result[name] = await measure[name]();
  return result;
}

async function oneRound(where, order, snapshot) {
  const work = fs.mkdtempSync('/tmp/k3s-sandbox-real-k8s-');
  const out = `${work}/round.out`;
  const inner = `node ${path.join(root, 'bench/real-k8s/bench.mjs')} --round ${where} --order ${order.join(',')} --scratch ${work}/scratch ` +
    `--k3s ${snapshot.k3s} --bundle ${snapshot.bundle}`;
  try {
    if (where === 'gvisor') {
      // runsc keeps the sandbox's writes inside it: the round's JSON comes out on stdout, through a file.
      await $`runsc --network=none --platform=ptrace do bash -c ${inner} >${out} 2>&1`.nothrow();
    } else {
      // Its own network (ports 6443, 10257, 10259), mounts (a tmpfs over /root for the published kubeconfig and for
      // the scratch dir) and pids (nothing outlives the round).
      const setup = `ip link set lo up && mkdir -p ${work}/scratch && mount -t tmpfs tmpfs ${work}/scratch && mount -t tmpfs tmpfs /root && exec ${inner}`;
      await $`unshare --net --mount --propagation private --pid --fork --mount-proc -- sh -c ${setup} >${out} 2>&1`.nothrow();
    }
    const text = fs.readFileSync(out, 'utf8');
    try {
      return JSON.parse(text.trim().split('\n').at(-1));
    } catch {
      throw new Error(`the ${where} round failed:\n${text.slice(-4000)}`);
    }
  } finally {
    fs.removeSync(work);
  }
}

if (argv.round) {
  fs.mkdirpSync(argv.scratch);
  console.log(JSON.stringify(await round(argv.round, String(argv.order).split(','), argv.scratch)));
} else {
  for (const file of [bundle, k3s, path.join(fixtures, 'k3s-sandbox-supervise')]) {
    if (!fs.existsSync(file)) throw new Error(`missing ${file}: run npm run build and test/fixtures/k3s-upstream/build.sh`);
  }
  const snapshotDir = fs.mkdtempSync('/tmp/k3s-sandbox-real-k8s-snapshot-');
  fs.mkdirpSync(`${snapshotDir}/dist`);
  for (const name of fs.readdirSync(path.dirname(bundle)).filter((n) => n === 'k3s-sandbox.cjs' || n.startsWith('k3s-sandbox-chunk-'))) {
    fs.copyFileSync(path.join(path.dirname(bundle), name), `${snapshotDir}/dist/${name}`);
  }
  fs.copyFileSync(k3s, `${snapshotDir}/k3s`);
  fs.chmodSync(`${snapshotDir}/k3s`, 0o755);
  const snapshot = { k3s: `${snapshotDir}/k3s`, bundle: `${snapshotDir}/dist/k3s-sandbox.cjs` };
  process.on('exit', () => fs.removeSync(snapshotDir));
  const load = () => fs.readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ');
  const loadBefore = load();
  const rounds = { gvisor: [], native: [] };
  for (let i = 0; i < runs; i++) {
    // Rotate the order, so that no measure always runs first (or last) in its sandbox.
    const order = MEASURES.map((_, j) => MEASURES[(i + j) % MEASURES.length]);
    for (const where of ['gvisor', 'native']) {
      const result = await oneRound(where, order, snapshot);
      rounds[where].push(result);
      console.error(`round ${i + 1} ${where}: ${MEASURES.map((m) => `${m} ${(result[m].ms / 1000).toFixed(2)} s`).join(', ')}, rss ${(result.up.rss / 1024).toFixed(0)} MB`);
    }
  }
  // The raw rounds, for a second look.
  fs.writeFileSync(argv.save ?? '/tmp/k3s-sandbox-real-k8s-rounds.json', JSON.stringify(rounds, null, 1));
  console.log(`runs: ${runs} interleaved rounds (gVisor, native) each measuring up, floor and seeds in rotating order; ` +
    `machine: ${(await $`nproc`.quiet()).stdout.trim()} cores, load ${loadBefore} before, ${load()} after; ${(await $`${k3s} --version`.quiet()).stdout.split('\n')[0]}`);
  console.log('| where | `up` returns (s) | floor: first authenticated /readyz 200, 50 ms polls (s) | seeds: `kubectl get --raw /healthz` every 1 s (s) | up ÷ floor (median, paired) | up ÷ seeds (median) | RSS after ready (MB, up / floor) |');
  console.log('|---|---|---|---|---|---|---|');
  const table = [];
  for (const where of ['gvisor', 'native']) {
    const values = (m, k = 'ms') => rounds[where].map((r) => r[m][k]);
    const ms = (m, k) => median(values(m, k)).toFixed(0);
    table.push(`| ${where} | ${ms('up', 'beforeK3s')} | ${ms('floor', 'beforeK3s')} | ${ms('up', 'afterK3sUp')} | ${ms('floor', 'afterK3sUp')} |`);
    const s = (m) => `${(median(values(m)) / 1000).toFixed(2)} (${(Math.min(...values(m)) / 1000).toFixed(2)}–${(Math.max(...values(m)) / 1000).toFixed(2)})`;
    const paired = median(rounds[where].map((r) => r.up.ms / r.floor.ms));
    const overFloor = median(values('up')) / median(values('floor'));
    console.log(`| ${where === 'gvisor' ? 'gVisor (runsc ptrace)' : 'native (namespaces)'} | ${s('up')} | ${s('floor')} | ${s('seeds')} | ` +
      `${overFloor.toFixed(3)}×, paired ${paired.toFixed(3)}× (target ≤ ${TARGET_UP_OVER_FLOOR}× ${paired <= TARGET_UP_OVER_FLOOR ? '✓' : '✗'}) | ` +
      `${(median(values('up')) / median(values('seeds'))).toFixed(2)}× | ${(median(values('up', 'rss')) / 1024).toFixed(0)} / ${(median(values('floor', 'rss')) / 1024).toFixed(0)} |`);
  }
  console.log('\n| where | start → `Starting k3s` logged, `up` (ms) | the same, by hand (ms) | `k3s is up and running` logged → `up` returns (ms) | the same → first 200 by hand (ms) |');
  console.log('|---|---|---|---|---|');
  for (const line of table) console.log(line);
}
