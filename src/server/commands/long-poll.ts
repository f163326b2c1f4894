import { Gauge, type Registry } from 'prom-client';
import type { DevicePrincipal } from '../core/access.js';
import { tooManyRequests } from '../core/http/errors.js';
import type { CommandDelivery, Outgoing } from './delivery.js';

/** Long polls one device may hold open in one process (ThingsBoard's firmware holds one). */
export const MAX_POLLS_PER_DEVICE = 2;
/** Long polls one process holds open in all. */
export const MAX_POLLS = 10_000;

export class ClientGone extends Error {}

/**
 * ThingsBoard's HTTP command poll: waits for the device's next command without holding a database
 * connection (a claim is one short statement, run when the bus says a command was queued). Bounded per
 * device and per process, so a device, or a stolen key, cannot open thousands.
 */
export class CommandLongPolls {
  private readonly perDevice = new Map<string, number>();
  private readonly ending = new Set<() => void>();
  private open = 0;

  constructor(private readonly delivery: CommandDelivery, registry: Registry) {
    const gauge: Gauge = new Gauge({
      name: 'vigil_device_command_polls_open', help: 'Long polls of the HTTP device API waiting for a command in this process', registers: [registry],
      collect: () => {
        gauge.set(this.open);
      },
    });
  }

  /** The next command, or null after `timeoutMs`. `gone` resolves when the caller hangs up (nothing is claimed then). */
  async next(device: DevicePrincipal, timeoutMs: number, gone: { readonly closed: boolean; onClose(listener: () => void): void }): Promise<Outgoing | null> {
    const held = this.perDevice.get(device.deviceId) ?? 0;
    if (held >= MAX_POLLS_PER_DEVICE || this.open >= MAX_POLLS) throw tooManyRequests(1, 2);
    this.perDevice.set(device.deviceId, held + 1);
    this.open++;
    try {
      return await this.wait(device, timeoutMs, gone);
    } finally {
      this.open--;
      const left = (this.perDevice.get(device.deviceId) ?? 1) - 1;
      if (left > 0) this.perDevice.set(device.deviceId, left);
      else this.perDevice.delete(device.deviceId);
    }
  }

  private wait(device: DevicePrincipal, timeoutMs: number, gone: { readonly closed: boolean; onClose(listener: () => void): void }): Promise<Outgoing | null> {
    return new Promise<Outgoing | null>((resolve, reject) => {
      let claiming = false;
      let again = false;
      let done = false;
      const finish = (command: Outgoing | null) => {
        if (done) return;
        done = true;
        clearTimeout(timer);
        stop();
        resolve(command);
      };
      const claim = () => {
        if (done) return;
        if (claiming) {
          again = true;
          return;
        }
        claiming = true;
        this.delivery.deliver(device, 1, async (command) => {
          // A poll that ended (timed out, or its caller hung up) takes nothing: the command goes back to the queue.
          if (done || gone.closed) throw new ClientGone('the poll ended');
          finish(command);
        }).then(() => {
          claiming = false;
          if (again) {
            again = false;
            claim();
          }
        }, (error: unknown) => {
          done = true;
          clearTimeout(timer);
          stop();
          reject(error instanceof Error ? error : new Error(String(error)));
        });
      };
      // Listen first, then look: a command queued in between is not missed.
      const unlisten = this.delivery.listen(device.deviceId, claim);
      const end = () => finish(null);
      this.ending.add(end);
      const stop = () => {
        unlisten();
        this.ending.delete(end);
      };
      const timer = setTimeout(() => finish(null), timeoutMs);
      gone.onClose(() => finish(null));
      claim();
    });
  }

  /** Ends every open poll without a command (the server is shutting down; devices poll again elsewhere). */
  close(): void {
    for (const end of [...this.ending]) end();
  }
}
