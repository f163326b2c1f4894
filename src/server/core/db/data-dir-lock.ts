import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';

/**
 * One Vigil process per data folder. The lock file holds the owner's pid, and the owner keeps the file
 * open for as long as it holds the lock. A lock whose owner is gone (crash, kill -9, power loss) is
 * taken over, also when its pid now belongs to another process (pids are reused after a reboot).
 */
export function acquireDataDirLock(dataDir: string): () => void {
  fs.mkdirSync(dataDir, { recursive: true });
  const lockFile = path.join(dataDir, 'vigil.lock');
  // The pid is written to a private file first and then hard-linked into place: the lock appears
  // atomically and complete, so another process never reads a half-written (empty) lock as stale.
  const candidate = `${lockFile}.${process.pid}`;
  fs.writeFileSync(candidate, String(process.pid));
  try {
    return takeLock(lockFile, candidate, dataDir);
  } finally {
    fs.rmSync(candidate, { force: true });
  }
}

function takeLock(lockFile: string, candidate: string, dataDir: string): () => void {
  for (let attempt = 0; attempt < 5; attempt++) {
    try {
      fs.linkSync(candidate, lockFile);
      // Held open so that another process can tell this one holds the lock (see holdsLock).
      const held = fs.openSync(lockFile, 'r');
      return () => {
        fs.closeSync(held);
        try {
          if (fs.readFileSync(lockFile, 'utf8') === String(process.pid)) fs.unlinkSync(lockFile);
        } catch {
          // already gone
        }
      };
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      const owner = Number(fs.readFileSync(lockFile, 'utf8'));
      if (Number.isInteger(owner) && owner > 0 && owner !== process.pid && holdsLock(owner, lockFile)) {
        throw new Error(`another Vigil process (pid ${owner}) is using the data folder ${dataDir}; stop it first`);
      }
      fs.rmSync(lockFile, { force: true });
    }
  }
  throw new Error(`could not take the lock on ${lockFile}`);
}

/** The pid of the live Vigil process holding the data folder's lock, if any (this process included). */
export function dataDirOwner(dataDir: string): number | undefined {
  const lockFile = path.join(dataDir, 'vigil.lock');
  let owner: number;
  try {
    owner = Number(fs.readFileSync(lockFile, 'utf8'));
  } catch {
    return undefined;
  }
  if (!Number.isInteger(owner) || owner <= 0) return undefined;
  return owner === process.pid || holdsLock(owner, lockFile) ? owner : undefined;
}

/**
 * Whether the live process `pid` holds `lockFile`. Where `/proc` lists its open files, exactly: it has
 * the file open. Otherwise (another user's process, macOS) any live node process is trusted, and any
 * other program (the pid reused after a power loss) is not.
 */
function holdsLock(pid: number, lockFile: string): boolean {
  if (!isAlive(pid)) return false;
  const open = openFiles(pid);
  if (open) {
    const lock = fs.statSync(lockFile, { throwIfNoEntry: false });
    return lock !== undefined && open.some((file) => file.dev === lock.dev && file.ino === lock.ino);
  }
  const args = processArgs(pid);
  return args === undefined || args.some((arg) => /(^|\/)node(\.exe)?$/.test(arg) || /vigil/i.test(arg));
}

function openFiles(pid: number): fs.Stats[] | undefined {
  let fds: string[];
  try {
    fds = fs.readdirSync(`/proc/${pid}/fd`);
  } catch {
    return undefined;
  }
  return fds.flatMap((fd) => {
    try {
      return [fs.statSync(`/proc/${pid}/fd/${fd}`)];
    } catch {
      return []; // closed meanwhile
    }
  });
}

/** A process that exited but was not yet reaped by its parent (a zombie) is not alive: it holds nothing. */
export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EPERM') return false;
  }
  try {
    // The state follows the command name in parentheses (which may itself contain spaces or parentheses).
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    return !/^[ZX]/.test(stat.slice(stat.lastIndexOf(')') + 2));
  } catch {
    return true; // no /proc (macOS), or it just went
  }
}

/** A process's command line: `/proc/<pid>/cmdline`, else `ps -o args=`; undefined when neither can tell. */
export function processArgs(pid: number): string[] | undefined {
  try {
    return fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').filter(Boolean);
  } catch {
    // no /proc: ask ps below
  }
  if (fs.existsSync('/proc/self')) return undefined;
  try {
    const args = execFileSync('ps', ['-o', 'args=', '-p', String(pid)], { encoding: 'utf8', timeout: 5000 }).trim();
    return args ? args.split(/\s+/) : undefined;
  } catch {
    return undefined;
  }
}
