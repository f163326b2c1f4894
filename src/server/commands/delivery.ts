import type { DevicePrincipal } from '../core/access.js';
import type { AppContext } from '../core/context.js';
import type { CommandStatus } from '../core/db/schema.js';
import { jsonProblem } from '../core/text.js';
import * as store from './store.js';

/** Bus message: commands may be waiting for this device (orgId null: never shown to a browser). */
export const COMMANDS_PENDING = 'device.commands.pending';
/** Bus message: a command changed status (the live stream shows it to members who may see the device). */
export const COMMAND_CHANGED = 'device.command';

/** How often each process looks in the database for commands of the devices listening to it. */
const SWEEP_INTERVAL_MS = 5000;

/** The largest answer a device may give, as JSON text. */
export const MAX_ANSWER_BYTES = 32 * 1024;

/** What a device is sent, ThingsBoard's shape: `{"method","params"}` on MQTT, with `"id"` over HTTP. */
export interface Outgoing {
  requestId: number;
  method: string;
  params: unknown;
}

/** `refused`: the answer was for this command but cannot be kept; the command failed with `reason`. */
export type AnswerOutcome = { outcome: 'recorded' | 'unknown' } | { outcome: 'refused'; reason: string };

/**
 * The device side of commands, in each server process: who is listening for a device's commands here
 * (MQTT connections subscribed to their request topic, HTTP long polls), waking them when a command is
 * queued in any process (through the bus), handing commands out once (claimed in the database) and
 * recording answers. A device only ever gets its own commands and can only answer its own.
 */
export class CommandDelivery {
  private readonly listeners = new Map<string, Set<() => void>>();
  private readonly unsubscribe: () => void;
  private readonly sweeper: NodeJS.Timeout;

  constructor(private readonly ctx: AppContext) {
    this.unsubscribe = ctx.bus.subscribe((message) => {
      if (message.type !== COMMANDS_PENDING) return;
      const deviceId = message.data.deviceId;
      if (typeof deviceId === 'string') this.wake(deviceId);
    });
    this.sweeper = setInterval(() => {
      this.sweep().catch((error: unknown) => ctx.logger.warn({ err: error }, 'commands: could not look for queued commands'));
    }, SWEEP_INTERVAL_MS).unref();
  }

  /**
   * Wakes the listeners of devices that have commands waiting. The bus wakes them at once; this catches what
   * a lost bus message (Redis down, or several processes without Redis) would leave queued.
   */
  async sweep(): Promise<void> {
    for (const deviceId of await store.devicesWithQueued(this.ctx.db, [...this.listeners.keys()])) this.wake(deviceId);
  }

  /** Calls `wake` whenever commands may be waiting for the device; returns the way to stop listening. */
  listen(deviceId: string, wake: () => void): () => void {
    let set = this.listeners.get(deviceId);
    if (!set) this.listeners.set(deviceId, (set = new Set()));
    set.add(wake);
    return () => {
      set.delete(wake);
      if (set.size === 0 && this.listeners.get(deviceId) === set) this.listeners.delete(deviceId);
    };
  }

  /** Tells every process that the device has commands waiting. */
  async announcePending(deviceId: string): Promise<void> {
    await this.ctx.bus.publish({ type: COMMANDS_PENDING, orgId: null, data: { deviceId } });
  }

  /**
   * Takes up to `limit` of the device's queued commands, oldest first, for delivery now; each is handed
   * out once however many connections the device has. `write` sends one to the device; a command it
   * could not write goes back to the queue.
   */
  async deliver(device: DevicePrincipal, limit: number, write: (command: Outgoing) => Promise<void>): Promise<number> {
    const claimed = await store.claimQueued(this.ctx.db, device.deviceId, limit);
    let written = 0;
    for (const command of claimed) {
      try {
        await write({ requestId: command.requestId, method: command.method, params: command.params });
        written++;
        await this.announce(device, command.id, command.twoWay ? 'sent' : 'delivered');
      } catch (error) {
        this.ctx.logger.warn({ deviceId: device.deviceId, requestId: command.requestId, err: error }, 'command not written to the device; queued again');
        await store.requeue(this.ctx.db, command.id);
      }
    }
    return written;
  }

  /**
   * A device's answer (`body`, parsed, `sizeBytes` as sent) to request `requestId`: recorded when it is one of
   * this device's two-way commands still waiting for an answer (an answer too large, or holding what PostgreSQL
   * cannot store, fails the command, with the reason); anything else is `unknown` and changes nothing.
   */
  async answer(device: DevicePrincipal, requestId: number, body: unknown, sizeBytes: number): Promise<AnswerOutcome> {
    if (!Number.isSafeInteger(requestId) || requestId <= 0) return { outcome: 'unknown' };
    const result = answerOf(body, sizeBytes);
    const row = await store.answer(this.ctx.db, device.deviceId, requestId, result);
    if (!row) return { outcome: 'unknown' };
    await this.announce(device, row.id, result.status);
    return result.error ? { outcome: 'refused', reason: result.error } : { outcome: 'recorded' };
  }

  async announce(device: Pick<DevicePrincipal, 'orgId' | 'siteId' | 'deviceId'>, commandId: string, status: CommandStatus): Promise<void> {
    await this.ctx.bus.publish({
      type: COMMAND_CHANGED, orgId: device.orgId, siteId: device.siteId, requires: 'device.read',
      data: { deviceId: device.deviceId, commandId, status },
    });
  }

  close(): void {
    clearInterval(this.sweeper);
    this.unsubscribe();
    this.listeners.clear();
  }

  private wake(deviceId: string): void {
    for (const wake of this.listeners.get(deviceId) ?? []) wake();
  }
}

/** Checked before anything is serialized: a value nested too deeply could overflow the stack, and jsonb refuses NUL and lone surrogates. */
function answerOf(body: unknown, sizeBytes: number): store.Answer {
  if (sizeBytes > MAX_ANSWER_BYTES) {
    return { status: 'failed', response: null, error: `the device's answer has ${sizeBytes} bytes; at most ${MAX_ANSWER_BYTES} are kept` };
  }
  const problem = jsonProblem(body, 'answer');
  if (problem) return { status: 'failed', response: null, error: `the device's answer cannot be kept: ${problem.field} ${problem.message}` };
  return { status: 'succeeded', response: JSON.stringify(body ?? null), error: null };
}
