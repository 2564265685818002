/**
 * Why a user cannot load our CLI: root re-runs the bundle as the user (asUser.ts), and a bootstrapper installed
 * 0700, or under a directory the user cannot enter, fails there before any of our code runs, where node says only
 * "Cannot find module" or EACCES. Asked after such a child failed, from the mode bits as the child has them: the
 * user's uid and primary gid, no other group (libuv drops root's supplementary groups).
 */
import { readdirSync, realpathSync, statSync, type Stats } from 'node:fs';
import { dirname, join } from 'node:path';
import type { TargetUser } from './user.js';

const READ = 4;
const SEARCH = 1;

/** The permission bits (rwx) that apply to `user` for a file with `stats`. */
function bitsFor(user: Pick<TargetUser, 'uid' | 'gid'>, stats: Stats): number {
  if (stats.uid === user.uid) return (stats.mode >> 6) & 7;
  if (stats.gid === user.gid) return (stats.mode >> 3) & 7;
  return stats.mode & 7;
}

function ancestors(path: string): string[] {
  const dirs: string[] = [];
  for (let dir = dirname(path); ; dir = dirname(dir)) {
    dirs.unshift(dir);
    if (dir === dirname(dir)) return dirs;
  }
}

/** The first of `path`'s directories the user cannot enter, or `path` itself when they cannot read it; else undefined. */
function blockerOf(user: Pick<TargetUser, 'uid' | 'gid'>, path: string): { path: string; stats: Stats } | undefined {
  let real: string;
  try {
    real = realpathSync(path);
  } catch {
    return undefined; // gone or unreachable even for root: not a question of the user's permissions
  }
  // Both the path as named and where its links lead: either's directories can stand in the way.
  for (const dir of new Set([...ancestors(path), ...ancestors(real)])) {
    const stats = statSync(dir);
    if ((bitsFor(user, stats) & SEARCH) === 0) return { path: dir, stats };
  }
  const stats = statSync(real);
  return (bitsFor(user, stats) & READ) === 0 ? { path, stats } : undefined;
}

/** The files a child running `mainScript` loads: the script and, for the bundle, the chunks beside it. */
function filesOf(mainScript: string): string[] {
  if (!mainScript.endsWith('.cjs')) return [mainScript];
  let siblings: string[] = [];
  try {
    siblings = readdirSync(dirname(mainScript)).filter((name) => name.endsWith('.cjs')).map((name) => join(dirname(mainScript), name));
  } catch {
    // The directory is not listable even for root: the script alone.
  }
  return [mainScript, ...siblings.filter((file) => file !== mainScript).sort()];
}

/**
 * Says which file of the CLI at `mainScript` `user` cannot read and what stands in the way, with the fix; undefined
 * when the mode bits let them read every one.
 */
export function unreadableBootstrapper(user: TargetUser, mainScript: string): string | undefined {
  for (const file of filesOf(mainScript)) {
    const blocker = blockerOf(user, file);
    if (!blocker) continue;
    const mode = (blocker.stats.mode & 0o7777).toString(8).padStart(4, '0');
    return (
      `user ${user.name} (uid ${user.uid}) cannot read ${file}: permission denied (${blocker.path} is mode ${mode}, owner uid ${blocker.stats.uid}); ` +
      'make the bootstrapper readable by all (0755 directories, 0644 files)'
    );
  }
  return undefined;
}
