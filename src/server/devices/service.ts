import { randomBytes } from 'node:crypto';
import { announceAccessChange, type DeviceAuthenticator, type DevicePrincipal, type Scope } from '../core/access.js';
import type { AppContext } from '../core/context.js';
import { isUniqueViolation, type Tx } from '../core/db/database.js';
import { AppError, conflict, invalidFields, notFound } from '../core/http/errors.js';
import { pageRequest, toPage, type PageQuery } from '../core/pagination.js';
import { hashToken } from '../core/tokens.js';
import { deviceStatus, type DeviceKind } from '../../shared/devices.js';
import { metricOverrideProblems } from '../../shared/metrics.js';
import { changedValues, type Actor, type AuditService } from '../audit/service.js';
import type { OrganizationRow, OrganizationsService } from '../organizations/service.js';
import type { SitesService } from '../sites/service.js';
import { TtlCache } from '../core/cache.js';
import * as store from './store.js';

export type DeviceRow = Awaited<ReturnType<typeof store.insertDevice>>;
type KeyRow = Awaited<ReturnType<typeof store.insertDeviceKey>>;

/**
 * Device keys: RushRoster radars keep their firmware's format (`rushroster_` + 64 lowercase hex), so an
 * existing device is reconfigured by pasting a new key where the old one was; other kinds get `vgd_` keys.
 */
export function newDeviceKey(kind: DeviceKind): string {
  return `${kind === 'speed_radar' ? 'rushroster_' : 'vgd_'}${randomBytes(32).toString('hex')}`;
}

export function presentDevice(device: DeviceRow) {
  return {
    id: device.id,
    siteId: device.site_id,
    kind: device.kind,
    name: device.name,
    serial: device.serial,
    lat: device.lat,
    lon: device.lon,
    speedLimit: device.speed_limit,
    speedUnits: device.speed_units,
    settings: device.settings,
    status: deviceStatus(device.kind, device.last_seen_at, device.reported_error),
    lastSeenAt: device.last_seen_at?.toISOString() ?? null,
    createdAt: device.created_at.toISOString(),
    updatedAt: device.updated_at.toISOString(),
  };
}

export function presentKey(key: KeyRow) {
  return {
    id: key.id,
    prefix: key.key_prefix,
    createdAt: key.created_at.toISOString(),
    lastUsedAt: key.last_used_at?.toISOString() ?? null,
    revokedAt: key.revoked_at?.toISOString() ?? null,
  };
}

function serialTaken(error: unknown): never {
  if (isUniqueViolation(error)) throw conflict('a device with this serial already exists', [{ field: 'serial', message: 'is already registered in this organization' }]);
  throw error;
}

function validate(fields: Partial<store.DeviceFields>, kind: DeviceKind | undefined): void {
  const problems = [];
  if ((fields.speedLimit != null || fields.speedUnits != null) && kind !== undefined && kind !== 'speed_radar') {
    problems.push({ field: 'speedLimit', message: 'only speed radars have a speed limit' });
  }
  if ((fields.lat == null) !== (fields.lon == null) && (fields.lat !== undefined || fields.lon !== undefined)) {
    problems.push({ field: 'lat', message: 'latitude and longitude go together' });
  }
  const safeRange = fields.settings?.safeRange as { min?: unknown; max?: unknown } | null | undefined;
  if (safeRange != null) {
    const { min, max } = safeRange;
    if (typeof min !== 'number' || typeof max !== 'number' || !Number.isFinite(min) || !Number.isFinite(max) || min >= max) {
      problems.push({ field: 'settings.safeRange', message: 'must be {"min": number, "max": number} with min below max (°C)' });
    } else if (min < -60 || max > 60) {
      problems.push({ field: 'settings.safeRange', message: 'must lie between -60 °C and 60 °C' });
    } else if (kind !== undefined && kind !== 'refrigeration') {
      problems.push({ field: 'settings.safeRange', message: 'only refrigeration units have a safe temperature range' });
    }
  }
  problems.push(...metricOverrideProblems(fields.settings?.metrics));
  if (problems.length > 0) throw invalidFields(problems);
}

/**
 * What a domain built on one device kind adds to the registry (cameras: their settings row, limit and
 * rights), so a device of that kind is whole whichever route registers or deletes it.
 */
export interface DeviceKindExtension {
  /** Runs in the registration's transaction, after the device row is written, with the organization locked. */
  created(tx: Tx, scope: Scope, device: DeviceRow, org: OrganizationRow): Promise<void>;
  /** Throws when the caller may not delete this device. */
  removing(scope: Scope, device: DeviceRow): void;
}

// Writing "last used" on every device request would cost a write per read; a minute's precision is plenty.
const CONTACT_INTERVAL_MS = 60 * 1000;

/** A device key recently seen by this process, with when its contact was last recorded. */
interface KnownKey {
  principal: DevicePrincipal;
  contactAt: number;
  seenAt: number | null;
  reportedError: string | null;
}

export class DevicesService implements DeviceAuthenticator {
  // Devices call often; their key is checked against the database at most every few seconds, and
  // revocation, rotation and device changes drop the entry at once (ACCESS_CHANGED on the bus).
  private readonly keys = new TtlCache<KnownKey>();
  private readonly extensions = new Map<DeviceKind, DeviceKindExtension>();

  constructor(
    private readonly ctx: AppContext,
    private readonly audit: AuditService,
    private readonly organizations: OrganizationsService,
    private readonly sites: SitesService,
  ) {
    ctx.bus.subscribe((message) => this.keys.apply(message));
  }

  extend(kind: DeviceKind, extension: DeviceKindExtension): void {
    this.extensions.set(kind, extension);
  }

  async authenticateDevice(apiKey: string): Promise<DevicePrincipal | null> {
    if (apiKey.length > 200) return null;
    return this.authenticateDeviceByHash(hashToken(apiKey));
  }

  async authenticateDeviceByHash(keyHash: string): Promise<DevicePrincipal | null> {
    const now = Date.now();
    let known = this.keys.get(keyHash);
    if (!known) {
      const row = await store.findDeviceByKey(this.ctx.db, keyHash);
      if (!row) return null;
      known = {
        principal: {
          deviceId: row.id,
          keyId: row.key_id,
          orgId: row.org_id,
          siteId: row.site_id,
          kind: row.kind,
          name: row.name,
          serial: row.serial,
          speedLimit: row.speed_limit,
          speedUnits: row.speed_units,
          timezone: row.timezone,
        },
        contactAt: Math.max(row.last_used_at?.getTime() ?? 0, 0),
        seenAt: row.last_seen_at?.getTime() ?? null,
        reportedError: row.reported_error,
      };
      this.keys.set(keyHash, known, row.id, row.key_id);
    }
    if (now - known.contactAt > CONTACT_INTERVAL_MS) await this.recordContact(known, now);
    return known.principal;
  }

  private async recordContact(known: KnownKey, now: number): Promise<void> {
    const { principal } = known;
    known.contactAt = now;
    await store.recordContact(this.ctx.db, principal.deviceId, principal.keyId, new Date(now));
    const before = deviceStatus(principal.kind, known.seenAt === null ? null : new Date(known.seenAt), known.reportedError, now);
    known.seenAt = now;
    const after = deviceStatus(principal.kind, new Date(now), known.reportedError, now);
    if (before !== after) {
      await this.ctx.bus.publish({
        type: 'device.status',
        orgId: principal.orgId,
        siteId: principal.siteId,
        data: { deviceId: principal.deviceId, status: after, lastSeenAt: new Date(now).toISOString() },
      });
    }
  }

  /** The calling device's own record (device-key APIs). */
  async own(device: DevicePrincipal) {
    const row = await store.findDeviceById(this.ctx.db, device.deviceId);
    if (!row) throw notFound('device');
    return row;
  }

  /** Marks a device seen that has no key of its own (a decoded camera) and announces it coming online. */
  async recordSeen(deviceId: string): Promise<void> {
    const now = Date.now();
    const row = await store.recordSeen(this.ctx.db, deviceId, new Date(now));
    if (!row) return;
    const before = deviceStatus(row.kind, row.previous_seen_at, row.reported_error, now);
    const after = deviceStatus(row.kind, new Date(now), row.reported_error, now);
    if (before === after) return;
    await this.ctx.bus.publish({
      type: 'device.status', orgId: row.org_id, siteId: row.site_id, data: { deviceId, status: after, lastSeenAt: new Date(now).toISOString() },
    });
  }

  /** Publishes `device.status` offline for each device that fell silent; run periodically by the job runner. */
  async announceOffline(): Promise<number> {
    const silent = await store.markNewlyOffline(this.ctx.db);
    // Forget what this and other processes remember of these devices: their next contact is recorded
    // at once and announced as coming back online.
    if (silent.length > 0) await announceAccessChange(this.ctx.bus, { subjectIds: silent.map((d) => d.id) });
    for (const device of silent) {
      await this.ctx.bus.publish({
        type: 'device.status',
        orgId: device.org_id,
        siteId: device.site_id,
        data: { deviceId: device.id, status: 'offline', lastSeenAt: device.last_seen_at.toISOString() },
      });
    }
    return silent.length;
  }

  async summary(scope: Scope) {
    const counts = { total: 0, online: 0, offline: 0, error: 0, byKind: {} as Record<string, number> };
    for (const row of await store.deviceCounts(this.ctx.db, scope)) {
      counts.total += row.n;
      counts[row.status] += row.n;
      counts.byKind[row.kind] = (counts.byKind[row.kind] ?? 0) + row.n;
    }
    return counts;
  }

  serialExists(orgId: string, serial: string): Promise<boolean> {
    return store.serialExists(this.ctx.db, orgId, serial);
  }

  async list(scope: Scope, query: PageQuery & store.DeviceFilter) {
    const page = pageRequest(query);
    const rows = await store.listDevices(this.ctx.db, scope, query, page.limit, page.after as [string, string] | null);
    return toPage(rows, page.limit, (r) => [r.name, r.id]);
  }

  /** The zone a device's times and days are in: its site's, else its organization's. */
  async timezoneOf(device: DeviceRow): Promise<string> {
    return store.deviceTimezone(this.ctx.db, device.id);
  }

  async get(scope: Scope, id: string) {
    const device = await store.findDevice(this.ctx.db, scope, id);
    if (!device) throw notFound('device');
    return device;
  }

  /** Registers a device and its first key (shown once). The plan's device limit is checked under a lock. */
  async create(scope: Scope, fields: store.DeviceFields, actor: Actor) {
    validate(fields, fields.kind);
    if (fields.siteId) await this.sites.get(scope, fields.siteId).catch(() => {
      throw invalidFields([{ field: 'siteId', message: 'is not a site you can see' }]);
    });
    if (scope.siteIds && !fields.siteId) throw invalidFields([{ field: 'siteId', message: 'is required: you are limited to some sites' }]);
    const speedUnits = fields.kind === 'speed_radar' ? (fields.speedUnits ?? (await this.organizations.get(scope.orgId)).units) : null;
    const key = newDeviceKey(fields.kind);
    const result = await this.ctx.db.transaction().execute(async (tx) => {
      const org = await this.organizations.lock(tx, scope.orgId);
      if (org.max_devices !== null && (await store.countDevices(tx, org.id)) >= org.max_devices) {
        throw new AppError(403, 'plan_limit', `${org.name} has reached its limit of ${org.max_devices} devices`);
      }
      const device = await store.insertDevice(tx, scope.orgId, { ...fields, speedUnits }).catch(serialTaken);
      await this.extensions.get(device.kind)?.created(tx, scope, device, org);
      const keyRow = await store.insertDeviceKey(tx, { orgId: scope.orgId, deviceId: device.id, keyHash: hashToken(key), prefix: key.slice(0, 16) });
      await this.audit.record(actor, {
        orgId: scope.orgId, action: 'device.created', resourceType: 'device', resourceId: device.id,
        details: { name: device.name, kind: device.kind, serial: device.serial },
      }, tx);
      return { device, keyRow };
    });
    await this.announce('device.created', result.device);
    return { ...result, key };
  }

  async update(scope: Scope, id: string, patch: Partial<store.DeviceFields>, actor: Actor) {
    const current = await this.get(scope, id);
    validate(patch, current.kind);
    if (patch.siteId) await this.sites.get(scope, patch.siteId).catch(() => {
      throw invalidFields([{ field: 'siteId', message: 'is not a site you can see' }]);
    });
    if (patch.siteId === null && scope.siteIds) throw invalidFields([{ field: 'siteId', message: 'is required: you are limited to some sites' }]);
    const device = await store.updateDevice(this.ctx.db, scope, id, patch).catch(serialTaken);
    if (!device) throw notFound('device');
    const before = { name: current.name, serial: current.serial, siteId: current.site_id, lat: current.lat, lon: current.lon, speedLimit: current.speed_limit, speedUnits: current.speed_units, settings: current.settings };
    await this.audit.record(actor, { orgId: scope.orgId, action: 'device.updated', resourceType: 'device', resourceId: id, name: device.name, details: { changes: changedValues(before, patch) } });
    await announceAccessChange(this.ctx.bus, { subjectIds: [id] });
    await this.announce('device.updated', device);
    return device;
  }

  async remove(scope: Scope, id: string, actor: Actor): Promise<void> {
    const device = await this.get(scope, id);
    this.extensions.get(device.kind)?.removing(scope, device);
    if (!(await store.deleteDevice(this.ctx.db, scope, id))) throw notFound('device');
    await this.audit.record(actor, { orgId: scope.orgId, action: 'device.deleted', resourceType: 'device', resourceId: id, details: { name: device.name, serial: device.serial } });
    await announceAccessChange(this.ctx.bus, { subjectIds: [id] });
    await this.announce('device.deleted', device);
  }

  async listKeys(scope: Scope, deviceId: string, query: PageQuery) {
    await this.get(scope, deviceId);
    const page = pageRequest(query);
    const rows = await store.listDeviceKeys(this.ctx.db, scope.orgId, deviceId, page.limit, page.after as [string, string] | null);
    return toPage(rows, page.limit, (r) => [r.created_at.toISOString(), r.id]);
  }

  /** A new key for the device (shown once); with `replaces`, that key is revoked in the same transaction. */
  async createKey(scope: Scope, deviceId: string, actor: Actor, replaces?: string) {
    const device = await this.get(scope, deviceId);
    const key = newDeviceKey(device.kind);
    const keyRow = await this.ctx.db.transaction().execute(async (tx) => {
      if (replaces && !(await store.revokeDeviceKey(tx, scope.orgId, deviceId, replaces))) throw notFound('active device key');
      const row = await store.insertDeviceKey(tx, { orgId: scope.orgId, deviceId, keyHash: hashToken(key), prefix: key.slice(0, 16) });
      await this.audit.record(actor, {
        orgId: scope.orgId, action: replaces ? 'device_key.rotated' : 'device_key.created', resourceType: 'device', resourceId: deviceId,
        details: { keyId: row.id, replaces: replaces ?? null },
      }, tx);
      return row;
    });
    if (replaces) await announceAccessChange(this.ctx.bus, { credentialIds: [replaces] });
    return { keyRow, key };
  }

  async revokeKey(scope: Scope, deviceId: string, keyId: string, actor: Actor): Promise<void> {
    await this.get(scope, deviceId);
    if (!(await store.revokeDeviceKey(this.ctx.db, scope.orgId, deviceId, keyId))) throw notFound('active device key');
    await announceAccessChange(this.ctx.bus, { credentialIds: [keyId] });
    await this.audit.record(actor, { orgId: scope.orgId, action: 'device_key.revoked', resourceType: 'device', resourceId: deviceId, details: { keyId } });
  }

  private announce(type: string, device: DeviceRow): Promise<void> {
    return this.ctx.bus.publish({ type, orgId: device.org_id, siteId: device.site_id, data: { device: presentDevice(device) } });
  }
}
