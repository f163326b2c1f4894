import type { DevicePrincipal, Scope } from '../core/access.js';
import type { Actor, AuditService } from '../audit/service.js';
import type { AppContext } from '../core/context.js';
import type { Tx } from '../core/db/database.js';
import type { AttributeScope } from '../core/db/schema-attributes.js';
import { AppError, badRequest, invalidFields, type FieldError } from '../core/http/errors.js';
import { pageRequest, toPage, type PageQuery } from '../core/pagination.js';
import { RateLimit, redisOf } from '../core/rate-limit.js';
import { jsonProblem, textProblem } from '../core/text.js';
import type { DevicesService } from '../devices/service.js';
import { sendToDevice } from '../mqtt/device-topics.js';
import * as store from './store.js';

/** Bounds of a device's attributes (docs/attributes.md). */
export const ATTRIBUTE_LIMITS = {
  keyChars: 256,
  valueBytes: 8192,
  keysPerScope: 500,
  /** Client attribute messages a device may send per minute (MQTT and HTTP together). */
  writesPerMinute: 300,
} as const;

/** Where shared attribute changes are pushed to a device (ThingsBoard's topic). */
export const SHARED_UPDATES_TOPIC = 'v1/devices/me/attributes';

// Keys whose values are kept out of the audit log: a shared attribute may carry a password or a token.
const SECRET_KEY = /pass(word)?|secret|token|api.?key|credential|private/i;
// The audit keeps the start of each value, enough to see what changed without storing 8 KB per key.
const AUDIT_VALUE_CHARS = 200;

export type AttributeValues = Record<string, unknown>;

/** The keys a device asks for, per scope; null = all of that scope. */
export interface AttributeRequest {
  client: string[] | null;
  shared: string[] | null;
}

/**
 * Device attributes: `client` ones reported by the device (firmware version, IP…), `shared` ones set by
 * members for the device and pushed to it over MQTT when they change (from whichever server process).
 */
export class AttributesService {
  private readonly deviceWrites: RateLimit;

  constructor(
    private readonly ctx: AppContext,
    private readonly audit: AuditService,
    private readonly devices: DevicesService,
  ) {
    this.deviceWrites = new RateLimit('device-attributes', ATTRIBUTE_LIMITS.writesPerMinute, 60, redisOf(ctx));
  }

  async list(scope: Scope, deviceId: string, query: PageQuery & { scope?: AttributeScope }) {
    await this.devices.get(scope, deviceId);
    const page = pageRequest(query);
    const rows = await store.listAttributes(this.ctx.db, scope, deviceId, query.scope, page.limit, page.after as [string, string] | null);
    const { items, nextCursor } = toPage(rows, page.limit, (r) => [r.scope, r.key]);
    return { items: items.map((r) => ({ scope: r.scope, key: r.key, value: r.value, updatedAt: r.updated_at.toISOString() })), nextCursor };
  }

  /** Sets shared attributes (audited) and pushes them to the device if it is connected. */
  async setShared(scope: Scope, deviceId: string, values: AttributeValues, actor: Actor): Promise<{ keys: string[] }> {
    const device = await this.devices.get(scope, deviceId);
    const entries = validate(values);
    await this.ctx.db.transaction().execute(async (tx) => {
      await this.write(tx, device.id, device.org_id, 'shared', entries);
      await this.audit.record(actor, {
        orgId: device.org_id, action: 'device.attributes_set', resourceType: 'device', resourceId: device.id,
        details: { scope: 'shared', values: forAudit(values) },
      }, tx);
    });
    await sendToDevice(this.ctx.bus, device.id, SHARED_UPDATES_TOPIC, values);
    return { keys: entries.map((e) => e.key) };
  }

  /** Deletes shared attributes (audited); the device is told `{"deleted": [keys]}`. */
  async deleteShared(scope: Scope, deviceId: string, keys: string[], actor: Actor): Promise<{ deleted: string[] }> {
    const device = await this.devices.get(scope, deviceId);
    const wanted = [...new Set(keys)];
    const deleted = await this.ctx.db.transaction().execute(async (tx) => {
      const gone = await store.deleteAttributes(tx, device.id, 'shared', wanted);
      if (gone.length > 0) {
        await this.audit.record(actor, {
          orgId: device.org_id, action: 'device.attributes_deleted', resourceType: 'device', resourceId: device.id, details: { scope: 'shared', keys: gone },
        }, tx);
      }
      return gone;
    });
    if (deleted.length > 0) await sendToDevice(this.ctx.bus, device.id, SHARED_UPDATES_TOPIC, { deleted });
    return { deleted };
  }

  /** Stores what a device reports about itself (MQTT or HTTP); all or nothing. */
  async reportClient(device: DevicePrincipal, values: unknown): Promise<{ stored: number }> {
    await this.deviceWrites.consume(device.deviceId);
    if (typeof values !== 'object' || values === null || Array.isArray(values)) {
      throw new AppError(400, 'invalid_payload', 'attributes must be a JSON object of key → value, e.g. {"firmwareVersion":"1.2.0"}');
    }
    const entries = validate(values as AttributeValues);
    await this.ctx.db.transaction().execute((tx) => this.write(tx, device.deviceId, device.orgId, 'client', entries));
    return { stored: entries.length };
  }

  /** A device's request for its attribute values (ThingsBoard's `{"client": {…}, "shared": {…}}`). */
  async forDevice(device: DevicePrincipal, request: AttributeRequest): Promise<{ client: AttributeValues; shared: AttributeValues }> {
    const read = async (scope: AttributeScope, keys: string[] | null) =>
      Object.fromEntries((await store.attributesOf(this.ctx.db, device.deviceId, scope, keys)).map((r) => [r.key, r.value]));
    const [client, shared] = await Promise.all([read('client', request.client), read('shared', request.shared)]);
    return { client, shared };
  }

  /** Every shared attribute of a device, for it to start from (sent when it subscribes to updates). */
  async sharedOf(device: DevicePrincipal): Promise<AttributeValues> {
    return Object.fromEntries((await store.attributesOf(this.ctx.db, device.deviceId, 'shared', null)).map((r) => [r.key, r.value]));
  }

  private async write(tx: Tx, deviceId: string, orgId: string, scope: AttributeScope, entries: store.AttributeEntry[]) {
    await store.lockScope(tx, deviceId, scope);
    const others = await store.countOtherKeys(tx, deviceId, scope, entries.map((e) => e.key));
    if (others + entries.length > ATTRIBUTE_LIMITS.keysPerScope) {
      throw new AppError(422, 'too_many_attributes',
        `a device has at most ${ATTRIBUTE_LIMITS.keysPerScope} ${scope} attributes; it has ${others} others and this adds ${entries.length}: delete some first`);
    }
    await store.upsertAttributes(tx, orgId, deviceId, scope, entries);
  }
}

/**
 * The keys a device asks for: comma-separated lists (ThingsBoard) or arrays of keys. Without either, every
 * attribute of both scopes; with one of them, only the keys asked for.
 */
export function attributeRequest(clientKeys: unknown, sharedKeys: unknown): AttributeRequest {
  const keys = (value: unknown, field: string): string[] | undefined => {
    if (value === undefined || value === null || value === '') return undefined;
    const list = typeof value === 'string' ? value.split(',').map((k) => k.trim()).filter((k) => k.length > 0)
      : Array.isArray(value) && value.every((k) => typeof k === 'string') ? (value as string[]) : undefined;
    if (!list) throw badRequest(`${field} is a comma-separated list of keys, e.g. "firmwareVersion,ip"`, [{ field, message: 'not a list of keys' }]);
    const problem = list.map(textProblem).find((p) => p !== null);
    if (problem) throw badRequest(`a key of ${field} ${problem}`, [{ field, message: `a key ${problem}` }]);
    return list;
  };
  const client = keys(clientKeys, 'clientKeys');
  const shared = keys(sharedKeys, 'sharedKeys');
  if (client === undefined && shared === undefined) return { client: null, shared: null };
  return { client: client ?? [], shared: shared ?? [] };
}

/** Checks every key and value; refuses the whole set with one reason per bad key. */
function validate(values: AttributeValues): store.AttributeEntry[] {
  const problems: FieldError[] = [];
  const entries: store.AttributeEntry[] = [];
  for (const [key, value] of Object.entries(values)) {
    const field = key.length > 40 ? `${key.slice(0, 40)}…` : key;
    if (key.trim().length === 0 || key.length > ATTRIBUTE_LIMITS.keyChars) {
      problems.push({ field: field || '(empty)', message: `a key has 1 to ${ATTRIBUTE_LIMITS.keyChars} characters` });
      continue;
    }
    if (value === null || value === undefined) {
      problems.push({ field, message: 'has no value; delete an attribute instead of setting it to null' });
      continue;
    }
    // What PostgreSQL cannot store (NUL, a lone surrogate) or too deep a value: refused here, not by a failed statement.
    const unstorable = textProblem(key) ?? jsonProblem(value, field)?.message;
    if (unstorable) {
      problems.push({ field: textProblem(key) ? '(key)' : field, message: unstorable });
      continue;
    }
    const json = JSON.stringify(value);
    if (Buffer.byteLength(json) > ATTRIBUTE_LIMITS.valueBytes) {
      problems.push({ field, message: `its value has ${Buffer.byteLength(json)} bytes of JSON; at most ${ATTRIBUTE_LIMITS.valueBytes}` });
      continue;
    }
    entries.push({ key, value: json });
  }
  if (entries.length + problems.length === 0) throw invalidFields([{ field: 'attributes', message: 'at least one key is needed' }]);
  if (entries.length + problems.length > ATTRIBUTE_LIMITS.keysPerScope) {
    throw invalidFields([{ field: 'attributes', message: `at most ${ATTRIBUTE_LIMITS.keysPerScope} keys at once` }]);
  }
  if (problems.length > 0) throw invalidFields(problems);
  return entries;
}

/** Keys and values for the audit log: secret-looking keys hidden, long values cut. */
function forAudit(values: AttributeValues): Record<string, unknown> {
  return Object.fromEntries(Object.entries(values).map(([key, value]) => {
    if (SECRET_KEY.test(key)) return [key, '[hidden]'];
    const json = JSON.stringify(value);
    return [key, json.length > AUDIT_VALUE_CHARS ? `${json.slice(0, AUDIT_VALUE_CHARS)}…` : value];
  }));
}
