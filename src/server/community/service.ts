import sharp from 'sharp';
import type { Scope } from '../core/access.js';
import type { AppContext } from '../core/context.js';
import { AppError, badRequest, invalidFields, notFound } from '../core/http/errors.js';
import { pageRequest, toPage, type PageQuery } from '../core/pagination.js';
import { RateLimit, redisOf } from '../core/rate-limit.js';
import { seal, unseal } from '../core/secret-box.js';
import type { Actor, AuditService } from '../audit/service.js';
import type { DevicesService } from '../devices/service.js';
import type { EventPhotosService, PhotoAnswer } from '../events/photos.js';
import type { OrganizationsService } from '../organizations/service.js';
import type { RollupsService } from '../rollups/service.js';
import type { TrafficService } from '../traffic/service.js';
import { fuzzLocation } from './location.js';
import { PublicCache } from './public-cache.js';
import * as store from './store.js';

const DAY_MS = 86_400_000;
const HOUR_MS = 3_600_000;
/** Public figures cover the last 30 days. */
const WINDOW_DAYS = 30;
const PHOTO_URL_SECONDS = 600;

/**
 * Community sharing: organizations and their managers choose devices to show on public pages (no
 * sign-in), which see only aggregate speed figures, recent speeders and a location moved by ~100 m.
 * Public answers are built here from a short list of columns, never from another domain's full object,
 * so nothing private (exact coordinates, emails, keys, serials, sites, private devices) can slip in.
 */
export class CommunityService {
  private readonly cache = new PublicCache();
  private readonly limiter: RateLimit;

  constructor(
    private readonly ctx: AppContext,
    private readonly audit: AuditService,
    private readonly organizations: OrganizationsService,
    private readonly devices: DevicesService,
    private readonly traffic: TrafficService,
    private readonly rollups: RollupsService,
    private readonly photos: EventPhotosService,
  ) {
    this.limiter = new RateLimit('public', ctx.config.publicRateLimitPerMinute, 60, redisOf(ctx));
    ctx.bus.subscribe((message) => this.cache.apply(message));
  }

  /** Counts one public request of a client address; 429 with Retry-After once its budget for the minute is spent. */
  limit(ip: string): Promise<void> {
    return this.limiter.consume(ip);
  }

  // Sharing settings (signed-in members).

  async sharing(scope: Scope, deviceId: string) {
    const device = await this.devices.get(scope, deviceId);
    const [org, row] = await Promise.all([this.organizations.get(scope.orgId), store.isShared(this.ctx.db, scope.orgId, device.id)]);
    const shared = row !== undefined;
    return {
      deviceId: device.id,
      shared,
      organizationShares: org.public_sharing,
      photos: org.public_photos,
      publicPath: shared && org.public_sharing ? `/public/devices/${device.id}` : null,
    };
  }

  /** Whether a device is on the public pages: it is marked shared and its organization shares (RushRoster's `share_community`). */
  async sharedPublicly(orgId: string, deviceId: string): Promise<boolean> {
    const [org, row] = await Promise.all([this.organizations.get(orgId), store.isShared(this.ctx.db, orgId, deviceId)]);
    return row !== undefined && org.public_sharing;
  }

  async setSharing(scope: Scope, deviceId: string, shared: boolean, actor: Actor) {
    const device = await this.devices.get(scope, deviceId);
    if (shared && device.kind !== 'speed_radar') throw invalidFields([{ field: 'shared', message: 'only speed radars can be shared on the public pages' }]);
    const before = await store.isShared(this.ctx.db, scope.orgId, device.id);
    if (shared) await store.share(this.ctx.db, scope.orgId, device.id);
    else await store.unshare(this.ctx.db, scope.orgId, device.id);
    if ((before !== undefined) !== shared) {
      await this.audit.record(actor, { orgId: scope.orgId, action: shared ? 'device.shared' : 'device.unshared', resourceType: 'device', resourceId: device.id, details: { name: device.name } });
      const change = { type: 'community.changed', orgId: scope.orgId, siteId: device.site_id, data: { deviceId: device.id, shared } };
      // This process forgets at once (with Redis the bus message comes back a moment later); the others on the message.
      this.cache.apply({ ...change, id: 'local' });
      await this.ctx.bus.publish(change);
    }
    return this.sharing(scope, deviceId);
  }

  // Public answers (no sign-in; cached).

  private since(): Date {
    return new Date(Date.now() - WINDOW_DAYS * DAY_MS);
  }

  private presentDevice(row: store.PublicDeviceRow, totals: store.DeviceTotals | undefined) {
    return {
      id: row.id,
      name: row.name,
      kind: row.kind,
      location: row.lat === null || row.lon === null ? null : fuzzLocation(this.ctx.secrets.secretKey, row.id, row.lat, row.lon),
      speedLimit: row.speed_limit,
      units: row.units,
      timezone: row.timezone,
      locale: row.locale,
      // To the hour: the exact minute a device last called says more about it than the public needs.
      lastActiveAt: row.last_seen_at ? new Date(Math.floor(row.last_seen_at.getTime() / HOUR_MS) * HOUR_MS).toISOString() : null,
      last30Days: { vehicles: Number(totals?.events ?? 0), speeding: Number(totals?.speeding ?? 0) },
    };
  }

  publicDevices(query: PageQuery) {
    return this.cache.get(`devices:${query.limit ?? ''}:${query.cursor ?? ''}`, async () => {
      const page = pageRequest(query);
      const rows = await store.listPublicDevices(this.ctx.db, page.limit, page.after as [string, string] | null);
      const { items, nextCursor } = toPage(rows, page.limit, (r) => [r.name, r.id]);
      await this.rollups.settle('events');
      const totals = new Map((await store.totalsByDevice(this.ctx.db, items.map((d) => d.id), this.since())).map((t) => [t.device_id, t]));
      return { items: items.map((row) => this.presentDevice(row, totals.get(row.id))), nextCursor };
    });
  }

  overview() {
    return this.cache.get('overview', async () => {
      await this.rollups.settle('events');
      const totals = await store.communityTotals(this.ctx.db, this.since());
      const vehicles = Number(totals.events);
      const speeding = Number(totals.speeding);
      return {
        devices: Number(totals.devices),
        organizations: Number(totals.organizations),
        last30Days: { vehicles, speeding, speedingShare: vehicles > 0 ? speeding / vehicles : null },
        mapTiles: this.ctx.config.mapTiles,
      };
    });
  }

  publicDevice(id: string) {
    return this.cache.get(`device:${id}`, async () => {
      const row = await store.findPublicDevice(this.ctx.db, id);
      if (!row) throw notFound('device');
      await this.rollups.settle('events');
      const now = new Date();
      const [totals] = await store.totalsByDevice(this.ctx.db, [row.id], this.since());
      const stats = await this.traffic.statistics(this.orgScope(row.org_id), { deviceId: row.id, from: this.since().toISOString(), to: now.toISOString() });
      return {
        ...this.presentDevice(row, totals),
        statistics: {
          from: stats.from,
          to: stats.to,
          empty: stats.empty,
          count: stats.summary.count,
          mean: stats.summary.mean,
          median: stats.summary.median,
          p85: stats.summary.p85,
          speedingShare: stats.speeding.speedingShare,
          hourly: stats.hourly.map((h) => ({ hour: h.hour, count: h.count })),
          daily: stats.daily.map((d) => ({ date: d.date, count: d.count, mean: d.mean, countAverage7: d.countAverage7 })),
        },
      };
    });
  }

  speeders(query: PageQuery & { deviceId?: string }) {
    return this.cache.get(`speeders:${query.deviceId ?? ''}:${query.limit ?? ''}:${query.cursor ?? ''}`, async () => {
      if (query.deviceId && !(await store.findPublicDevice(this.ctx.db, query.deviceId))) throw notFound('device');
      const page = pageRequest({ limit: query.limit ?? 20, cursor: query.cursor && this.open('community-cursor', query.cursor, () => badRequest('cursor is not valid; use the nextCursor of a previous page')) });
      const rows = await store.recentSpeeders(this.ctx.db, this.since(), page.limit, { deviceId: query.deviceId, before: page.after as [string, string] | null });
      const { items, nextCursor } = toPage(rows, page.limit, (r) => [r.ts.toISOString(), r.id]);
      return {
        items: items.map((r) => ({
          deviceId: r.device_id,
          time: r.ts.toISOString(),
          speed: r.speed,
          speedLimit: r.speed_limit,
          photoUrl: r.has_photo && r.public_photos ? this.photoUrl(r.id) : null,
        })),
        // The cursor holds an event id, sealed like the photo links.
        nextCursor: nextCursor && seal(this.ctx.secrets.encryptionKey, `community-cursor:${nextCursor}`),
      };
    });
  }

  // Photos: a link that expires, and the opt-ins checked again when it is used. Event ids are sequential
  // across the platform, so a public link carries the event and its expiry sealed (AES-GCM with the
  // server's key): it reveals neither how many events there are nor the id of any other one.

  private photoUrl(eventId: string): string {
    const expires = Math.floor(Date.now() / 1000) + PHOTO_URL_SECONDS;
    return `/api/v1/public/photos/${seal(this.ctx.secrets.encryptionKey, `community-photo:${eventId}:${expires}`)}`;
  }

  /** What a sealed public token of `purpose` holds; anything the server did not issue for it (an old numeric link too) is `refused`. */
  private open(purpose: string, token: string, refused: () => AppError): string {
    let plain: string;
    try {
      plain = unseal(this.ctx.secrets.encryptionKey, token);
    } catch {
      throw refused();
    }
    if (!plain.startsWith(`${purpose}:`)) throw refused();
    return plain.slice(purpose.length + 1);
  }

  async photo(token: string): Promise<PhotoAnswer> {
    const [eventId, expires] = this.open('community-photo', token, () => notFound('photo')).split(':').map(Number) as [number, number];
    if (Date.now() / 1000 > expires) throw new AppError(410, 'photo_link_expired', 'this photo link has expired; reload the page');
    const orgId = await store.publicPhotoOrg(this.ctx.db, eventId);
    if (!orgId) throw notFound('photo');
    return { data: await blurred(await this.photos.readBytes(this.orgScope(orgId), eventId, 'thumb')), type: 'image/jpeg' };
  }

  /** Reads of a sharing organization's data on behalf of the public: as a viewer of every site, for shared devices only. */
  private orgScope(orgId: string): Scope {
    return { orgId, userId: 'community', role: 'viewer', siteIds: null };
  }
}

/**
 * A public photo is always served blurred, so number plates and faces cannot be read from a shared page
 * even where the organization shows photos: the vehicle and the scene stay recognisable, the text does not.
 */
async function blurred(image: Buffer): Promise<Buffer> {
  const { width = 320 } = await sharp(image).metadata();
  return sharp(image).rotate().blur(Math.max(6, width / 40)).jpeg({ quality: 70 }).toBuffer();
}
