/** Every command, in the order the usage lists them. */
import type { CommandDeclaration } from './command.js';
import { doctor } from './doctor.js';
import { down } from './down.js';
import { env } from './env.js';
import { installK3s, writeConfig } from './install.js';
import { logs } from './logs.js';
import { cni, homeTask, simulateNode } from './plumbing.js';
import { sessionContext } from './sessionContext.js';
import { status } from './status.js';
import { uninstall } from './uninstall.js';
import { uninstallProfile } from './uninstallProfile.js';
import { up } from './up.js';

export const COMMANDS: readonly CommandDeclaration[] = [
  up,
  down,
  status,
  logs,
  doctor,
  env,
  uninstallProfile,
  uninstall,
  sessionContext,
  installK3s,
  writeConfig,
  cni,
  simulateNode,
  homeTask,
];
