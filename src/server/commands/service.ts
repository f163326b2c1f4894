import type { Scope } from '../core/access.js';
import type { AppContext } from '../core/context.js';
import { badRequest, invalidFields, notFound, type FieldError } from '../core/http/errors.js';
import { pageRequest, toPage, type PageQuery } from '../core/pagination.js';
import { jsonProblem } from '../core/text.js';
import { RateLimit, redisOf } from '../core/rate-limit.js';
import type { Actor, AuditService } from '../audit/service.js';
import type { DevicesService } from '../devices/service.js';
import { COMMAND_CHANGED, type CommandDelivery } from './delivery.js';
import { FINAL_STATUSES, presentCommand, type DeviceCommand } from './present.js';
import * as store from './store.js';

export interface CommandInput {
  method: string;
  params?: unknown;
  twoWay?: boolean;
  timeoutSeconds?: number;
}

/** The largest params a command may carry, as JSON text. */
export const MAX_PARAMS_BYTES = 16 * 1024;
/** A two-way command holds the API call open while it waits, so its timeout is short. */
export const MAX_TWO_WAY_TIMEOUT_S = 120;
/** A one-way command may wait this long for an offline device (a week). */
export const MAX_ONE_WAY_TIMEOUT_S = 7 * 86_400;
export const DEFAULT_TWO_WAY_TIMEOUT_S = 30;
export const DEFAULT_ONE_WAY_TIMEOUT_S = 86_400;
/** How many commands may wait for one device at once. */
export const MAX_QUEUED_PER_DEVICE = 100;
/** How long a one-way command's API call waits to say "delivered" rather than "queued". */
const ONE_WAY_SETTLE_MS = 300;
/** How often a waiting call reads its command's record, besides listening to the bus. */
const RECHECK_MS = 1000;
/** Commands a member may send to one device per minute (every process together when Redis is set). */
const COMMANDS_PER_DEVICE_PER_MINUTE = 60;

const METHOD = /^[A-Za-z0-9_.:/-]{1,128}$/;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

interface Checked {
  method: string;
  params: string;
  twoWay: boolean;
  timeoutSeconds: number;
}

function validated(input: CommandInput): Checked {
  const problems: FieldError[] = [];
  const method = input.method.trim();
  if (!METHOD.test(method)) problems.push({ field: 'method', message: 'is 1 to 128 letters, digits or _ . : / -' });
  // Checked before it is serialized: a value nested too deeply could overflow the stack.
  const problem = jsonProblem(input.params ?? {}, 'params');
  const params = problem ? '{}' : JSON.stringify(input.params ?? {});
  if (problem) problems.push(problem);
  else if (Buffer.byteLength(params) > MAX_PARAMS_BYTES) problems.push({ field: 'params', message: `is at most ${MAX_PARAMS_BYTES} bytes of JSON` });
  const twoWay = input.twoWay ?? true;
  const max = twoWay ? MAX_TWO_WAY_TIMEOUT_S : MAX_ONE_WAY_TIMEOUT_S;
  const timeoutSeconds = input.timeoutSeconds ?? (twoWay ? DEFAULT_TWO_WAY_TIMEOUT_S : DEFAULT_ONE_WAY_TIMEOUT_S);
  if (!Number.isInteger(timeoutSeconds) || timeoutSeconds < 1 || timeoutSeconds > max) {
    problems.push({ field: 'timeoutSeconds', message: `is 1 to ${max} seconds for a ${twoWay ? 'two-way' : 'one-way'} command` });
  }
  if (problems.length > 0) throw invalidFields(problems);
  return { method, params, twoWay, timeoutSeconds };
}

/** A cursor's (created_at, id), checked before it reaches SQL: a tampered cursor is a 400, not a 500. */
function keysetAfter(after: (string | number)[] | null): [string, string] | null {
  if (!after) return null;
  const [at, id] = after;
  if (after.length !== 2 || typeof at !== 'string' || typeof id !== 'string' || Number.isNaN(Date.parse(at)) || !UUID.test(id)) {
    throw badRequest('cursor is not valid; use the nextCursor of a previous page', [{ field: 'cursor', message: 'malformed' }]);
  }
  return [at, id];
}

export type SendOutcome = { kind: 'answered' | 'accepted' | 'timed_out'; command: DeviceCommand };

/**
 * Commands members send to devices: validated, rate-limited per device, audited (method and options, never
 * the params, which may carry secrets), recorded, then delivered by whichever process holds the device's
 * connection (see CommandDelivery). A two-way command's call waits for the answer up to its timeout.
 */
export class CommandsService {
  private readonly perDevice: RateLimit;
  private readonly waiting = new Set<() => void>();
  private stopping = false;

  constructor(
    private readonly ctx: AppContext,
    private readonly audit: AuditService,
    private readonly devices: DevicesService,
    private readonly delivery: CommandDelivery,
  ) {
    this.perDevice = new RateLimit('device-commands', COMMANDS_PER_DEVICE_PER_MINUTE, 60, redisOf(ctx));
  }

  async send(scope: Scope, deviceId: string, input: CommandInput, actor: Actor): Promise<SendOutcome> {
    const device = await this.devices.get(scope, deviceId);
    const checked = validated(input);
    await this.perDevice.consume(device.id);
    if ((await store.countQueued(this.ctx.db, device.id)) >= MAX_QUEUED_PER_DEVICE) {
      throw badRequest(`${MAX_QUEUED_PER_DEVICE} commands are already waiting for this device; wait for it to connect or for them to expire`);
    }
    const id = await this.ctx.db.transaction().execute(async (tx) => {
      const commandId = await store.insertCommand(tx, {
        orgId: scope.orgId, deviceId: device.id, ...checked, createdBy: actor.userId, createdByLabel: actor.label,
      });
      await this.audit.record(actor, {
        orgId: scope.orgId, action: 'device.command_sent', resourceType: 'device', resourceId: device.id,
        details: { commandId, method: checked.method, twoWay: checked.twoWay, timeoutSeconds: checked.timeoutSeconds },
      }, tx);
      return commandId;
    });
    const target = { orgId: scope.orgId, siteId: device.site_id, deviceId: device.id };
    // Listen before the device can be told, so that a quick answer is not missed.
    const settled = this.settled(id, checked.twoWay ? checked.timeoutSeconds * 1000 : Math.min(ONE_WAY_SETTLE_MS, checked.timeoutSeconds * 1000));
    await this.delivery.announce(target, id, 'queued');
    await this.delivery.announcePending(device.id);
    const reached = await settled;
    if (!checked.twoWay) return { kind: 'accepted', command: await this.get(scope, device.id, id) };
    if (!reached && !this.stopping) {
      for (const row of await store.closeOverdue(this.ctx.db, id)) await this.delivery.announce(target, row.id, row.status);
    }
    const command = await this.get(scope, device.id, id);
    return { kind: command.status === 'succeeded' || command.status === 'failed' ? 'answered' : 'timed_out', command };
  }

  async list(scope: Scope, deviceId: string, query: PageQuery) {
    await this.devices.get(scope, deviceId);
    const page = pageRequest(query);
    const rows = await store.listCommands(this.ctx.db, scope, deviceId, page.limit, keysetAfter(page.after));
    const result = toPage(rows, page.limit, (r) => [r.created_at.toISOString(), r.id]);
    return { items: result.items.map(presentCommand), nextCursor: result.nextCursor };
  }

  async get(scope: Scope, deviceId: string, commandId: string): Promise<DeviceCommand> {
    const row = await store.findCommand(this.ctx.db, scope, commandId);
    if (!row || row.device_id !== deviceId) throw notFound('command');
    return presentCommand(row);
  }

  /** Closes commands past their deadline (the job behind API calls that never came back, and one-way expiry). */
  async closeOverdue(): Promise<number> {
    const rows = await store.closeOverdue(this.ctx.db);
    for (const row of rows) await this.delivery.announce({ orgId: row.org_id, siteId: row.site_id, deviceId: row.device_id }, row.id, row.status);
    return rows.length;
  }

  /** Answers the calls still waiting with their command as it stands (the server is shutting down). */
  close(): void {
    this.stopping = true;
    for (const end of [...this.waiting]) end();
  }

  /**
   * Resolves true when the command reaches a final status (a two-way one: answered or failed; a one-way
   * one: delivered or expired), false after `ms`. Driven by the bus, so the change may happen in any process;
   * the record stays the truth (the caller reads it afterwards).
   */
  private settled(commandId: string, ms: number): Promise<boolean> {
    return new Promise((resolve) => {
      const stop = this.ctx.bus.subscribe((message) => {
        if (message.type !== COMMAND_CHANGED || message.data.commandId !== commandId) return;
        if (FINAL_STATUSES.has(message.data.status as DeviceCommand['status'])) finish(true);
      });
      const timer = setTimeout(() => finish(false), ms);
      // The record is read now and then too: a change made by a process this one shares no bus with still ends the wait.
      const check = setInterval(() => {
        store.statusOf(this.ctx.db, commandId).then((status) => {
          if (status && FINAL_STATUSES.has(status)) finish(true);
        }, () => undefined);
      }, RECHECK_MS);
      const end = () => finish(false);
      this.waiting.add(end);
      const waiting = this.waiting;
      function finish(reached: boolean) {
        clearTimeout(timer);
        clearInterval(check);
        stop();
        waiting.delete(end);
        resolve(reached);
      }
    });
  }
}
