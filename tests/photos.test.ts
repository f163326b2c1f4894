import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { InjectOptions } from 'fastify';
import sharp from 'sharp';
import { startTestApp, type SignedIn, type TestApp } from './helpers/app.js';

// A real JPEG, as a radar camera would send (800 × 600), with EXIF that names where it was taken.
const JPEG = await sharp({ create: { width: 800, height: 600, channels: 3, background: { r: 40, g: 90, b: 160 } } })
  .jpeg().withExif({ IFD0: { Artist: 'radar-cam' }, IFD3: { GPSLatitudeRef: 'N', GPSLatitude: '51/1 30/1 0/1' } }).toBuffer();
const OTHER_JPEG = await sharp({ create: { width: 800, height: 600, channels: 3, background: { r: 220, g: 20, b: 20 } } }).jpeg().toBuffer();

function multipart(field: string, filename: string, type: string, data: Buffer) {
  const boundary = '----vigiltest' + Math.random().toString(16).slice(2);
  const body = Buffer.concat([
    Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="${field}"; filename="${filename}"\r\nContent-Type: ${type}\r\n\r\n`),
    data,
    Buffer.from(`\r\n--${boundary}--\r\n`),
  ]);
  return { body, contentType: `multipart/form-data; boundary=${boundary}` };
}

describe('RushRoster photo flow', () => {
  let app: TestApp;
  let owner: SignedIn;
  before(async () => {
    app = await startTestApp({ publicUrl: 'https://vigil.example.org/base' });
    owner = await app.owner();
  });
  after(async () => app.close());

  async function radarWithEvent(siteId?: string) {
    const created = await owner.client.post('/api/v1/devices', { kind: 'speed_radar', name: 'Oak', serial: `ph-${Math.random().toString(36).slice(2)}`, speedLimit: 25, siteId });
    const key = created.body.apiKey as string;
    const upload = await app.runtime.app.inject({
      method: 'POST', url: '/api/ingest/v1/events', headers: { 'x-api-key': key, 'content-type': 'application/json' },
      payload: '{"events": [{"timestamp": "2025-06-01T07:30:00.500000", "speed": 47.0, "speed_limit": 25.0, "is_speeding": 1, "has_photo": true}]}',
    });
    return { key, eventId: upload.json().created_events[0].event_id as string, deviceId: created.body.device.id as string };
  }

  const inject = (options: InjectOptions) => app.runtime.app.inject(options);
  const askUrl = (key: string, eventId: string) => inject({ method: 'POST', url: `/api/ingest/v1/events/${eventId}/photo/url`, headers: { 'x-api-key': key } });
  const pathOf = (uploadUrl: string) => uploadUrl.replace('https://vigil.example.org/base', '');

  it('runs the device\'s three steps: URL, multipart PUT without a key, confirm; users then see the photo', async () => {
    const { key, eventId, deviceId } = await radarWithEvent();
    const issued = await askUrl(key, eventId);
    assert.equal(issued.statusCode, 200);
    const { upload_url: uploadUrl, photo_key: photoKey, expires_in: expiresIn, event_id: echoed } = issued.json();
    assert.equal(echoed, eventId);
    assert.equal(expiresIn, 3600);
    assert.ok(uploadUrl.startsWith('https://vigil.example.org/base/'), 'absolute, from PUBLIC_URL');
    assert.match(photoKey, new RegExp(`^photos/${deviceId}/\\d{4}/\\d{2}/${eventId}-[0-9a-f]{16}\\.jpg$`));

    const form = multipart('file', 'photo.jpg', 'image/jpeg', JPEG);
    const put = await inject({ method: 'PUT', url: pathOf(uploadUrl), headers: { 'content-type': form.contentType }, payload: form.body });
    assert.equal(put.statusCode, 200, put.body);
    assert.equal(put.json().status, 'success');
    assert.equal(put.json().key, photoKey);

    const confirm = await inject({ method: 'POST', url: `/api/ingest/v1/events/${eventId}/photo/confirm?photo_key=${encodeURIComponent(photoKey)}`, headers: { 'x-api-key': key } });
    assert.equal(confirm.statusCode, 200);
    assert.equal(confirm.json().status, 'success');

    const photo = await app.runtime.app.inject({ method: 'GET', url: `/api/v1/events/${eventId}/photo`, headers: { cookie: owner.client.cookie! } });
    assert.equal(photo.statusCode, 200);
    assert.equal(photo.headers['content-type'], 'image/jpeg');
    assert.ok(!photo.rawPayload.equals(JPEG), 'a re-encoded copy, not the bytes the device sent');
    const served = await sharp(photo.rawPayload).metadata();
    assert.deepEqual([served.format, served.width, served.height, served.exif], ['jpeg', 800, 600, undefined], 'same size, no EXIF (no GPS position)');
    const thumb = await app.runtime.app.inject({ method: 'GET', url: `/api/v1/events/${eventId}/photo?size=thumb`, headers: { cookie: owner.client.cookie! } });
    const meta = await sharp(thumb.rawPayload).metadata();
    assert.deepEqual([meta.format, meta.width, meta.height], ['jpeg', 320, 240]);
    assert.equal((await app.client().get(`/api/v1/events/${eventId}/photo`)).status, 401, 'never a public link');
    const stranger = await app.owner('Stranger');
    assert.equal((await stranger.client.get(`/api/v1/events/${eventId}/photo`)).status, 404);

    const resend = await inject({
      method: 'POST', url: '/api/ingest/v1/events', headers: { 'x-api-key': key, 'content-type': 'application/json' },
      payload: '{"events": [{"timestamp": "2025-06-01T07:30:00.500000", "speed": 47.0, "speed_limit": 25.0, "is_speeding": 1, "has_photo": true}]}',
    });
    assert.equal(resend.json().created_events.length, 0, 'the photo arrived, so a resend does not ask for it again');
  });

  it('accepts a raw image body as well', async () => {
    const { key, eventId } = await radarWithEvent();
    const { upload_url: uploadUrl } = (await askUrl(key, eventId)).json();
    const put = await inject({ method: 'PUT', url: pathOf(uploadUrl), headers: { 'content-type': 'image/jpeg' }, payload: JPEG });
    assert.equal(put.statusCode, 200, put.body);
  });

  it('refuses a tampered or expired URL, a non-image, and a missing file part', async () => {
    const { key, eventId } = await radarWithEvent();
    const { upload_url: uploadUrl } = (await askUrl(key, eventId)).json();
    const path = pathOf(uploadUrl);
    const jpeg = multipart('file', 'photo.jpg', 'image/jpeg', JPEG);
    const tampered = path.slice(0, -3) + (path.endsWith('AAA') ? 'BBB' : 'AAA');
    assert.equal((await inject({ method: 'PUT', url: tampered, headers: { 'content-type': jpeg.contentType }, payload: jpeg.body })).statusCode, 403);
    assert.equal((await inject({ method: 'PUT', url: '/api/ingest/v1/photo-uploads/..%2F..%2Fetc%2Fpasswd', headers: { 'content-type': 'image/jpeg' }, payload: JPEG })).statusCode, 403);
    const text = multipart('file', 'photo.jpg', 'image/jpeg', Buffer.from('#!/bin/sh\necho pwned\n'));
    const notImage = await inject({ method: 'PUT', url: path, headers: { 'content-type': text.contentType }, payload: text.body });
    assert.equal(notImage.statusCode, 415);
    const truncated = multipart('file', 'photo.jpg', 'image/jpeg', JPEG.subarray(0, 40));
    assert.equal((await inject({ method: 'PUT', url: path, headers: { 'content-type': truncated.contentType }, payload: truncated.body })).statusCode, 415, 'JPEG magic but not an image');
    const wrongField = multipart('photo', 'photo.jpg', 'image/jpeg', JPEG);
    assert.equal((await inject({ method: 'PUT', url: path, headers: { 'content-type': wrongField.contentType }, payload: wrongField.body })).statusCode, 422);

    const realNow = Date.now;
    Date.now = () => realNow() + 2 * 3600 * 1000;
    try {
      const expired = await inject({ method: 'PUT', url: path, headers: { 'content-type': jpeg.contentType }, payload: jpeg.body });
      assert.equal(expired.statusCode, 403);
      assert.match(expired.json().detail, /expired/);
    } finally {
      Date.now = realNow;
    }
  });

  it('confirm accepts only the key issued for this event, after the upload; other devices get 403 and unknown events 404', async () => {
    const first = await radarWithEvent();
    const second = await radarWithEvent();
    const { photo_key: photoKey } = (await askUrl(first.key, first.eventId)).json();
    const confirmUrl = (eventId: string, photoKeyValue: string) => `/api/ingest/v1/events/${eventId}/photo/confirm?photo_key=${encodeURIComponent(photoKeyValue)}`;
    const early = await inject({ method: 'POST', url: confirmUrl(first.eventId, photoKey), headers: { 'x-api-key': first.key } });
    assert.equal(early.statusCode, 409, 'not uploaded yet');
    const traversal = await inject({ method: 'POST', url: confirmUrl(first.eventId, '../../etc/passwd'), headers: { 'x-api-key': first.key } });
    assert.equal(traversal.statusCode, 403);
    const foreignKey = await inject({ method: 'POST', url: confirmUrl(first.eventId, photoKey.replace(new RegExp(`/${first.eventId}-`), `/${second.eventId}-`)), headers: { 'x-api-key': first.key } });
    assert.equal(foreignKey.statusCode, 403);
    assert.equal((await askUrl(second.key, first.eventId)).statusCode, 403, 'another device\'s event');
    assert.equal((await askUrl(first.key, '999999999')).statusCode, 404);
    assert.equal((await askUrl(first.key, 'not-a-uuid')).statusCode, 422);
    const noKey = await inject({ method: 'POST', url: `/api/ingest/v1/events/${first.eventId}/photo/confirm`, headers: { 'x-api-key': first.key } });
    assert.equal(noKey.statusCode, 422);
  });

  it('an upload URL works once; a later upload for a confirmed photo is kept as a new version and audited, never replacing it', async () => {
    const { key, eventId, deviceId } = await radarWithEvent();
    const confirm = (photoKey: string) => inject({ method: 'POST', url: `/api/ingest/v1/events/${eventId}/photo/confirm?photo_key=${encodeURIComponent(photoKey)}`, headers: { 'x-api-key': key } });
    const first = (await askUrl(key, eventId)).json();
    assert.equal((await inject({ method: 'PUT', url: pathOf(first.upload_url), headers: { 'content-type': 'image/jpeg' }, payload: JPEG })).statusCode, 200);
    const replay = await inject({ method: 'PUT', url: pathOf(first.upload_url), headers: { 'content-type': 'image/jpeg' }, payload: OTHER_JPEG });
    assert.equal(replay.statusCode, 410, replay.body);
    assert.match(replay.json().detail, /already been used/);
    assert.equal((await confirm(first.photo_key)).statusCode, 200);
    const photoUrl = `/api/v1/events/${eventId}/photo`;
    const readPhoto = async () => (await app.runtime.app.inject({ method: 'GET', url: photoUrl, headers: { cookie: owner.client.cookie! } })).rawPayload;
    const original = await readPhoto();

    const second = (await askUrl(key, eventId)).json();
    assert.notEqual(second.photo_key, first.photo_key, 'each URL has its own key');
    assert.equal((await inject({ method: 'PUT', url: pathOf(second.upload_url), headers: { 'content-type': 'image/jpeg' }, payload: OTHER_JPEG })).statusCode, 200);
    assert.equal((await confirm(second.photo_key)).statusCode, 200, 'the device sees success');
    assert.equal((await confirm(second.photo_key)).statusCode, 200, 'and again');
    assert.ok((await readPhoto()).equals(original), 'the confirmed photo still serves the first upload');

    const versions = await app.runtime.ctx.pool.query('SELECT storage_key, confirmed_at IS NOT NULL AS confirmed, original_sha256 FROM event_photo_uploads WHERE event_id = $1 ORDER BY uploaded_at', [eventId]);
    assert.deepEqual(versions.rows.map((r) => [r.storage_key, r.confirmed]), [[first.photo_key, true], [second.photo_key, true]]);
    assert.ok(await app.runtime.ctx.media.exists(second.photo_key), 'the new version is kept');
    const entries = (await owner.client.get(`/api/v1/audit?resourceType=event&resourceId=${eventId}`)).body.items as { action: string; actor: string; details: Record<string, unknown> }[];
    assert.deepEqual(entries.map((entry) => entry.action), ['event.photo_version_added'], 'audited once');
    assert.match(entries[0]!.actor, /^device ph-/);
    assert.deepEqual(entries[0]!.details, { deviceId, photoKey: second.photo_key, keptPhotoKey: first.photo_key, versions: 2 });
    assert.ok(!JSON.stringify(entries[0]).includes(pathOf(second.upload_url).split('/').pop()!), 'no upload token in the audit log');

    assert.equal((await owner.client.delete(`/api/v1/events/${eventId}`)).status, 204);
    for (const photoKey of [first.photo_key, second.photo_key]) assert.equal(await app.runtime.ctx.media.exists(photoKey), false, 'deleting the event deletes every version');
  });

  it('a restricted viewer sees photos only of their sites', async () => {
    const north = (await owner.client.post('/api/v1/sites', { name: 'North photos' })).body.id;
    const south = (await owner.client.post('/api/v1/sites', { name: 'South photos' })).body.id;
    const inSouth = await radarWithEvent(south);
    const { upload_url: uploadUrl, photo_key: photoKey } = (await askUrl(inSouth.key, inSouth.eventId)).json();
    await inject({ method: 'PUT', url: pathOf(uploadUrl), headers: { 'content-type': 'image/jpeg' }, payload: JPEG });
    await inject({ method: 'POST', url: `/api/ingest/v1/events/${inSouth.eventId}/photo/confirm?photo_key=${encodeURIComponent(photoKey)}`, headers: { 'x-api-key': inSouth.key } });
    const viewer = await app.member(owner, 'viewer', [north]);
    assert.equal((await viewer.client.get(`/api/v1/events/${inSouth.eventId}/photo`)).status, 404);
    assert.equal((await owner.client.request('GET', `/api/v1/events/${inSouth.eventId}/photo`)).status, 200);
  });
});
