// Rules for the paths an environment names on the host: where a deployment may live and
// what a backup may archive. Pure; the schema turns a returned problem into an issue.
import path from 'node:path';

/** Where backups are written, relative to deploy_dir (the guide's layout, fixed). */
export const BACKUP_DIR = 'storage/backup';

/** Longest path accepted; leaves room for what the role appends below deploy_dir. */
export const PATH_MAX = 200;

/** `./storage`, `storage//backup/` and `storage/./backup` all mean what they look like. */
export function normalRelative(relative: string): string {
  const normal = path.posix.normalize(relative).replace(/\/+$/, '');
  return normal === '' ? '.' : normal;
}

/** How a path relative to deploy_dir relates to the backup directory, if it does. */
export function backupOverlap(relative: string): 'is' | 'contains' | 'inside' | undefined {
  const normal = normalRelative(relative);
  if (normal === BACKUP_DIR) return 'is';
  if (normal === '.' || BACKUP_DIR.startsWith(`${normal}/`)) return 'contains';
  if (normal.startsWith(`${BACKUP_DIR}/`)) return 'inside';
  return undefined;
}

// The FHS top level: each is the system's, never a compose project directory.
const TOP_LEVEL = ['bin', 'boot', 'dev', 'etc', 'home', 'lib', 'lib32', 'lib64', 'libx32', 'media', 'mnt', 'opt', 'proc', 'root', 'run', 'sbin', 'srv', 'sys', 'tmp', 'usr', 'var'];
// Trees that belong to the kernel, the boot loader or the package manager, all the way down.
const SYSTEM_TREES = /^\/(proc|sys|dev|run|boot|etc|bin|sbin|lib[^/]*|usr)(\/|$)/;
// Shared directories whose contents other programs own; a subdirectory of them is fine.
const SHARED = ['/usr/local', '/var/lib', '/var/log', '/var/cache', '/var/spool', '/var/tmp', '/var/run'];

/** Why an absolute path cannot be a deploy directory, or undefined when it can. */
export function deployDirProblem(dir: string): string | undefined {
  if (dir !== '/' && (dir.endsWith('/') || path.posix.normalize(dir) !== dir)) {
    return `must be written in its plain form (no "//", trailing "/", "." or ".." components): ${path.posix.normalize(dir).replace(/(.)\/$/, '$1')}`;
  }
  const system = 'is a system directory; the role creates storage/backup and a compose project there, so give the deployment a directory of its own';
  if (dir === '/' || TOP_LEVEL.includes(dir.slice(1)) || SHARED.includes(dir)) return system;
  // /usr/local/<name> is where an administrator puts their own software.
  if (SYSTEM_TREES.test(dir) && !/^\/usr\/local\/[^/]/.test(dir)) return system;
  return undefined;
}
