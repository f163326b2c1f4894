import sharp from 'sharp';
import type { DevicePrincipal } from '../core/access.js';
import type { Actor } from '../audit/service.js';
import type { EventPhotosService } from '../events/photos.js';
import { readBounded, withDeadline } from './http-client.js';
import type { Car } from './radar-model.js';
import { deriveSeed, Rng } from './random.js';

/**
 * Photos of simulated radars. A RushRoster radar photographs speeding vehicles and sends each photo
 * through the three-step flow (upload URL, upload, confirm); the simulator and `vigil demo` do the same
 * with a drawn JPEG, so "with photo" filters, the photo viewer and public thumbnails have pictures.
 */

/** One speeding car in this many is photographed (a real radar's camera misses some, and this keeps uploads light). */
const PHOTO_EVERY = 3;
const WIDTH = 640;
const HEIGHT = 400;
const PAINTS = ['#b91c1c', '#1d4ed8', '#f8fafc', '#111827', '#6b7280', '#15803d', '#ca8a04', '#7c2d12'];

export function takesPhoto(car: Car): boolean {
  return car.isSpeeding === 1 && deriveSeed('photo', car.timestamp, car.speed) % PHOTO_EVERY === 0;
}

/** A dusk street scene with the car in its own colour and place: a real 640 × 400 JPEG of a few KB, the same for the same car. */
export async function radarPhoto(car: Car): Promise<Buffer> {
  const rng = new Rng(deriveSeed('photo-scene', car.timestamp, car.speed));
  const paint = PAINTS[rng.int(0, PAINTS.length - 1)]!;
  const x = rng.int(120, 360);
  const y = rng.int(190, 230);
  const lamp = rng.uniform(0.15, 0.35).toFixed(2);
  const svg = `<svg xmlns="http://www.w3.org/2000/svg" width="${WIDTH}" height="${HEIGHT}">
  <defs><linearGradient id="sky" x1="0" y1="0" x2="0" y2="1"><stop offset="0" stop-color="#1e293b"/><stop offset="1" stop-color="#475569"/></linearGradient></defs>
  <rect width="${WIDTH}" height="${HEIGHT}" fill="url(#sky)"/>
  <polygon points="0,${HEIGHT} ${WIDTH},${HEIGHT} ${WIDTH * 0.62},150 ${WIDTH * 0.38},150" fill="#374151"/>
  <polygon points="${WIDTH * 0.49},150 ${WIDTH * 0.51},150 ${WIDTH * 0.53},${HEIGHT} ${WIDTH * 0.47},${HEIGHT}" fill="#e5e7eb" opacity="0.6"/>
  <circle cx="${WIDTH * 0.15}" cy="60" r="40" fill="#fde68a" opacity="${lamp}"/>
  <g transform="translate(${x} ${y})">
    <rect x="0" y="40" width="200" height="70" rx="16" fill="${paint}"/>
    <path d="M35 42 L65 0 H140 L170 42 Z" fill="${paint}"/>
    <path d="M50 40 L72 10 H133 L155 40 Z" fill="#93c5fd" opacity="0.7"/>
    <circle cx="45" cy="112" r="22" fill="#0f172a"/><circle cx="155" cy="112" r="22" fill="#0f172a"/>
    <rect x="70" y="80" width="60" height="18" rx="2" fill="#f8fafc" stroke="#0f172a"/>
    <rect x="6" y="58" width="22" height="12" rx="3" fill="#fef9c3"/><rect x="172" y="58" width="22" height="12" rx="3" fill="#fef9c3"/>
  </g>
</svg>`;
  return sharp(Buffer.from(svg)).jpeg({ quality: 70 }).toBuffer();
}

type Fetch = typeof fetch;

/**
 * A device's photo steps for one stored event: ask for the upload URL, PUT the JPEG there, confirm it.
 * Returns null when done, or why it failed (a real radar does not retry a photo either).
 */
export async function uploadRadarPhoto(
  doFetch: Fetch, baseUrl: string, key: string, eventId: string, car: Car, parent: AbortSignal, timeoutMs: number, userAgent: string,
): Promise<string | null> {
  const headers = { 'x-api-key': key, 'user-agent': userAgent };
  return withDeadline(parent, timeoutMs, async (signal) => {
    const issued = await doFetch(`${baseUrl}/api/ingest/v1/events/${encodeURIComponent(eventId)}/photo/url`, { method: 'POST', headers, signal });
    if (!issued.ok) return `photo URL: HTTP ${issued.status}`;
    const { upload_url: uploadUrl, photo_key: photoKey } = JSON.parse(await readBounded(issued)) as { upload_url: string; photo_key: string };
    // The address is built from the server's PUBLIC_URL; the simulator talks to the address it was given.
    const upload = await doFetch(`${baseUrl}${new URL(uploadUrl).pathname}`, {
      method: 'PUT', headers: { 'content-type': 'image/jpeg', 'user-agent': userAgent }, body: new Uint8Array(await radarPhoto(car)), signal,
    });
    await readBounded(upload);
    if (!upload.ok) return `photo upload: HTTP ${upload.status}`;
    const confirmed = await doFetch(`${baseUrl}/api/ingest/v1/events/${encodeURIComponent(eventId)}/photo/confirm?photo_key=${encodeURIComponent(photoKey)}`, { method: 'POST', headers, signal });
    await readBounded(confirmed);
    return confirmed.ok ? null : `photo confirm: HTTP ${confirmed.status}`;
  });
}

/** `vigil demo`: photos for each radar's latest photographed speeders, not its whole history. */
export const DEMO_PHOTOS_PER_RADAR = 12;

/** The three photo steps of a device, made in process by `vigil demo` for events it has just stored; returns how many were attached. */
export async function attachDemoPhotos(photos: EventPhotosService, device: DevicePrincipal, events: { car: Car; eventId: string }[], actor: Actor): Promise<number> {
  let attached = 0;
  for (const { car, eventId } of events) {
    const issued = await photos.issueUpload(device, eventId);
    await photos.acceptUpload(new URL(issued.uploadUrl).pathname.split('/').pop()!, await radarPhoto(car));
    await photos.confirm(device, eventId, issued.photoKey, actor);
    attached += 1;
  }
  return attached;
}
