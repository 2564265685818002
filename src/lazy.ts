/**
 * Everything the hot commands (`--help`, `status`, `env` and a warm `up`) never run, behind one dynamic import: the
 * steps that start k3s (probe, plan, fakes, launch, wait, the simulated node), the other commands and the installer.
 * The hot commands' code is imported statically from the entry (src/cli.ts).
 *
 * Why one module: the bundle is code-split (scripts/build.mjs), and esbuild makes every dynamic-import target an entry
 * point and puts each module into the chunk for the set of entry points that reach it. Each further lazy target of our
 * own code would split the modules the entry shares with it (config, paths, files, ...) into one more chunk file that
 * every command opens, and each file costs Node a resolve, a read and a compile, slow in gVisor (BENCHMARKS.md,
 * "Bootstrapper"). So our own code is imported lazily only through here, and only with `await import()` from code the
 * entry loads; the other lazy imports are packages (execa, the Kubernetes client, undici), whose code the entry
 * shares nothing with, and src/kube/kubeconfig.ts, which carries the Kubernetes client. test/unit/bundle.test.ts
 * checks the result: the entry and the one chunk it imports hold every hot command.
 */
export { run as runDoctor } from './commands/doctor.js';
export { run as runDown } from './commands/down.js';
export { run as runLogs } from './commands/logs.js';
export { main as runSessionContext } from './commands/sessionContext.js';
export { run as runUninstall } from './commands/uninstall.js';
export { run as runUninstallProfile } from './commands/uninstallProfile.js';
export { runCniPlugin } from './cni/hostLocal.js';
export { printVersion } from './cli/version.js';
export { main as runInstall } from './install/index.js';
export { optionEnvName } from './install/write-config.js';
export { runSimulateNode } from './simnode/index.js';
export { fakes } from './steps/fakes.js';
export { driftOf, failureWhileWaiting, followRootInstance, keepRunning, launch } from './steps/launch.js';
export { plan } from './steps/plan.js';
export { probe } from './steps/probe.js';
export { simulatedNode } from './steps/simulatedNode.js';
export { wait } from './steps/wait.js';
