import { createHash, randomBytes } from 'node:crypto';
import sharp from 'sharp';
import type { DevicePrincipal, Scope } from '../core/access.js';
import type { AppContext } from '../core/context.js';
import { AppError, forbidden, notFound } from '../core/http/errors.js';
import { imageTypeOf, reencodeImage } from '../core/media.js';
import { hmac, safeEqual } from '../core/tokens.js';
import type { Actor, AuditService } from '../audit/service.js';
import * as store from './store.js';

export const UPLOAD_TTL_SECONDS = 3600;
/** Lists show thumbnails this wide; the original is kept for the full-size viewer and reports. */
export const THUMBNAIL_WIDTH = 320;
const READ_URL_SECONDS = 300;

export function thumbnailKey(key: string): string {
  return `${key}.thumb.jpg`;
}

export type PhotoAnswer = { url: string } | { data: Buffer; type: string };

/**
 * Event photos. A device asks for an upload URL for one of its events; the URL carries a signed,
 * expiring token naming the device, the event and a storage key of its own, so the upload itself needs
 * no device key (RushRoster firmware sends none) and can write nothing else. Each URL works once, and a
 * confirmed photo is evidence: it is never overwritten; a later upload for the event is kept as another
 * version, and its confirmation audited.
 */
export class EventPhotosService {
  constructor(
    private readonly ctx: AppContext,
    private readonly audit: AuditService,
  ) {}

  private sign(payload: string): string {
    return hmac(this.ctx.secrets.secretKey, `photo-upload:${payload}`);
  }

  private async deviceEvent(device: DevicePrincipal, eventId: string) {
    const id = Number(eventId);
    if (!Number.isSafeInteger(id) || id <= 0) throw new AppError(400, 'bad_event_id', 'event id must be a positive integer');
    const event = await store.findDeviceEvent(this.ctx.db, device.orgId, id);
    if (!event) throw notFound('event');
    if (event.device_id !== device.deviceId) throw forbidden('Event does not belong to this device');
    return event;
  }

  async issueUpload(device: DevicePrincipal, eventId: string) {
    const event = await this.deviceEvent(device, eventId);
    const now = new Date();
    // The RushRoster shape (photos/device/year/month/name.jpg) with a random part, so no two URLs share a file.
    const key = `photos/${device.deviceId}/${now.getUTCFullYear()}/${String(now.getUTCMonth() + 1).padStart(2, '0')}/${event.id}-${randomBytes(8).toString('hex')}.jpg`;
    const expires = Math.floor(now.getTime() / 1000) + UPLOAD_TTL_SECONDS;
    const payload = Buffer.from(JSON.stringify([device.deviceId, event.id, key, expires])).toString('base64url');
    const token = `${payload}.${this.sign(payload)}`;
    return {
      eventId: String(event.id),
      uploadUrl: `${this.ctx.config.publicUrl}/api/ingest/v1/photo-uploads/${token}`,
      photoKey: key,
      expiresIn: UPLOAD_TTL_SECONDS,
    };
  }

  /**
   * Stores an uploaded photo if the token is genuine, unexpired and unused and the bytes are an image:
   * a re-encoded copy (no metadata) and its thumbnail, under the URL's own key.
   */
  async acceptUpload(token: string, data: Buffer) {
    const [payload, signature] = token.split('.');
    if (!payload || !signature || !safeEqual(signature, this.sign(payload))) throw new AppError(403, 'bad_upload_token', 'this upload URL is not valid');
    const [deviceId, eventId, key, expires] = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as [string, number, string, number];
    if (Date.now() / 1000 > expires) throw new AppError(403, 'upload_url_expired', 'this upload URL has expired; ask for a new one');
    if (data.length === 0) throw new AppError(400, 'empty_upload', 'the upload has no file');
    if (!imageTypeOf(data)) throw new AppError(415, 'not_an_image', 'only JPEG, PNG or WebP images are accepted');
    const image = await reencodeImage(data, this.ctx.config.mediaMaxPixels);
    const thumbnail = await sharp(image).resize({ width: THUMBNAIL_WIDTH, withoutEnlargement: true }).jpeg({ quality: 75 }).toBuffer();
    const claimed = await store.claimPhotoUpload(this.ctx.db, {
      storageKey: key, deviceId, eventId, originalSha256: createHash('sha256').update(data).digest('hex'), originalBytes: data.length,
    });
    if (!claimed) throw new AppError(410, 'upload_url_used', 'this upload URL has already been used; ask for a new one');
    try {
      await this.ctx.media.put(key, image, 'image/jpeg');
      await this.ctx.media.put(thumbnailKey(key), thumbnail, 'image/jpeg');
    } catch (error) {
      // Not stored, so the device may try the same URL again.
      await store.forgetPhotoUpload(this.ctx.db, key);
      throw error;
    }
    return { deviceId, eventId, key };
  }

  /**
   * Attaches an uploaded photo to its event: only a key issued for this device and event, once it has
   * arrived. The first confirmed photo stays the event's photo; a later one is kept as a version, audited.
   */
  async confirm(device: DevicePrincipal, eventId: string, photoKey: string, actor: Actor) {
    const event = await this.deviceEvent(device, eventId);
    const expected = new RegExp(`^photos/${device.deviceId}/\\d{4}/\\d{2}/${event.id}-[0-9a-f]{16}\\.jpg$`);
    if (!expected.test(photoKey)) throw forbidden('this photo key was not issued for this event');
    if (!(await store.findPhotoUpload(this.ctx.db, device.deviceId, event.id, photoKey))) {
      throw new AppError(409, 'photo_not_uploaded', 'the photo has not been uploaded yet');
    }
    const photoUrl = `${this.ctx.config.publicUrl}/api/v1/events/${event.id}/photo`;
    const outcome = await this.ctx.db.transaction().execute(async (tx) => {
      const confirmed = await store.confirmPhotoUpload(tx, device.deviceId, event.id, photoKey);
      if (await store.setFirstEventPhoto(tx, device.deviceId, event.id, photoKey)) return 'first';
      if (!confirmed.first) return 'again';
      await this.audit.record(actor, {
        orgId: device.orgId, action: 'event.photo_version_added', resourceType: 'event', resourceId: String(event.id),
        details: { deviceId: device.deviceId, photoKey, keptPhotoKey: event.photo_key, versions: confirmed.versions },
      }, tx);
      return 'version';
    });
    if (outcome === 'first') {
      await this.ctx.bus.publish({ type: 'event.photo', orgId: device.orgId, siteId: device.siteId, data: { deviceId: device.deviceId, eventId: String(event.id) } });
    }
    return { photoUrl };
  }

  /**
   * A picture the server itself took for one of a device's events (a camera's violation): stored like an
   * upload (re-encoded JPEG, its own key, recorded as a version of the event's photo) with the given
   * thumbnail. The first becomes the event's photo; a later one (`best`: a better frame of the same
   * incident) takes its place while the earlier stays kept as a version, so no evidence is lost.
   */
  async attachServerPhoto(device: { orgId: string; deviceId: string; siteId: string | null }, eventId: number, image: Buffer, thumbnail: Buffer, best = false) {
    const now = new Date();
    const key = `photos/${device.deviceId}/${now.getUTCFullYear()}/${String(now.getUTCMonth() + 1).padStart(2, '0')}/${eventId}-${randomBytes(8).toString('hex')}.jpg`;
    const stored = await reencodeImage(image, this.ctx.config.mediaMaxPixels);
    await this.ctx.media.put(key, stored, 'image/jpeg');
    await this.ctx.media.put(thumbnailKey(key), thumbnail, 'image/jpeg');
    const upload = { storageKey: key, deviceId: device.deviceId, eventId, originalSha256: createHash('sha256').update(image).digest('hex'), originalBytes: image.length };
    const first = await this.ctx.db.transaction().execute(async (tx) => {
      await store.claimPhotoUpload(tx, upload);
      await store.confirmPhotoUpload(tx, device.deviceId, eventId, key);
      if (await store.setFirstEventPhoto(tx, device.deviceId, eventId, key)) return true;
      if (best) await store.setEventPhoto(tx, device.deviceId, eventId, key);
      return false;
    });
    if (first || best) await this.ctx.bus.publish({ type: 'event.photo', orgId: device.orgId, siteId: device.siteId, data: { deviceId: device.deviceId, eventId: String(eventId) } });
    return key;
  }

  /**
   * The photo (or its thumbnail) of an event the caller may see: a short-lived signed URL when the
   * storage offers one (S3), else the bytes.
   */
  /** The bytes of an event's photo (or thumbnail) the caller may see, from any storage: for serving a changed copy. */
  async readBytes(scope: Scope, eventId: number, size: 'full' | 'thumb' = 'full'): Promise<Buffer> {
    const event = await store.findVisibleEvent(this.ctx.db, scope, eventId);
    const data = event?.photo_key ? await this.ctx.media.get(size === 'thumb' ? thumbnailKey(event.photo_key) : event.photo_key) : null;
    if (!data) throw notFound('photo');
    return data;
  }

  async read(scope: Scope, eventId: number, size: 'full' | 'thumb' = 'full'): Promise<PhotoAnswer> {
    const event = await store.findVisibleEvent(this.ctx.db, scope, eventId);
    if (!event?.photo_key) throw notFound('photo');
    const key = size === 'thumb' ? thumbnailKey(event.photo_key) : event.photo_key;
    const url = await this.ctx.media.readUrl(key, READ_URL_SECONDS);
    if (url) return { url };
    const data = await this.ctx.media.get(key);
    if (!data) throw notFound('photo');
    return { data, type: imageTypeOf(data) ?? 'application/octet-stream' };
  }
}
