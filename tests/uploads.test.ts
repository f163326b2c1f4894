import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { crc32, deflateSync } from 'node:zlib';
import type { LightMyRequestResponse } from 'fastify';
import sharp from 'sharp';
import { startTestApp, type SignedIn, type TestApp } from './helpers/app.js';

/**
 * Uploads on the device photo route and on maintenance attachments alike: every way a multipart body can be
 * malformed is a 4xx with a reason (never a 500), an image bomb is refused before it is decoded, and what is
 * served is a re-encoded copy.
 */
const MAX_BYTES = 256 * 1024;
const JPEG = await sharp({ create: { width: 64, height: 48, channels: 3, background: { r: 200, g: 30, b: 30 } } }).jpeg().toBuffer();
const BOUNDARY = '----vigilupload';
const CONTENT_TYPE = `multipart/form-data; boundary=${BOUNDARY}`;

function part(field: string, data: Buffer, fileName: string | null = 'photo.jpg'): Buffer {
  const disposition = fileName === null ? `form-data; name="${field}"` : `form-data; name="${field}"; filename="${fileName}"`;
  return Buffer.concat([Buffer.from(`--${BOUNDARY}\r\nContent-Disposition: ${disposition}\r\nContent-Type: image/jpeg\r\n\r\n`), data, Buffer.from('\r\n')]);
}
const end = Buffer.from(`--${BOUNDARY}--\r\n`);

/**
 * An image bomb: a complete, valid 16383 × 16383 PNG (268 megapixels, black and white) whose rows of zeros
 * compress to a few tens of kilobytes; decoding it takes a gigabyte of memory and seconds of CPU.
 */
function pngBomb(side = 16383): Buffer {
  const chunk = (type: string, data: Buffer) => {
    const typed = Buffer.concat([Buffer.from(type, 'ascii'), data]);
    const length = Buffer.alloc(4);
    length.writeUInt32BE(data.length);
    const crc = Buffer.alloc(4);
    crc.writeUInt32BE(crc32(typed));
    return Buffer.concat([length, typed, crc]);
  };
  const header = Buffer.alloc(13);
  header.writeUInt32BE(side, 0);
  header.writeUInt32BE(side, 4);
  header.set([1, 0, 0, 0, 0], 8); // 1 bit per pixel, greyscale
  const rows = Buffer.alloc((Math.ceil(side / 8) + 1) * side); // each row: filter byte 0, then zeros
  return Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), chunk('IHDR', header), chunk('IDAT', deflateSync(rows, { level: 9 })), chunk('IEND', Buffer.alloc(0))]);
}
const BOMB = pngBomb();

/** Each malformed request: a name, its content type and its body. */
const MALFORMED: { name: string; contentType: string; body: Buffer }[] = [
  { name: 'a boundary that does not match the body', contentType: 'multipart/form-data; boundary=other', body: Buffer.concat([part('file', JPEG), end]) },
  { name: 'no boundary at all', contentType: 'multipart/form-data', body: Buffer.concat([part('file', JPEG), end]) },
  { name: 'no file part (only a text field)', contentType: CONTENT_TYPE, body: Buffer.concat([part('note', Buffer.from('hello'), null), end]) },
  { name: 'no part at all', contentType: CONTENT_TYPE, body: end },
  { name: 'a body cut off in the middle of the file', contentType: CONTENT_TYPE, body: part('file', JPEG).subarray(0, 300) },
  { name: 'a body cut off in the headers', contentType: CONTENT_TYPE, body: Buffer.from(`--${BOUNDARY}\r\nContent-Disposition: form-da`) },
  { name: 'two files', contentType: CONTENT_TYPE, body: Buffer.concat([part('file', JPEG), part('file', JPEG, 'second.jpg'), end]) },
  { name: 'a file over the size limit', contentType: CONTENT_TYPE, body: Buffer.concat([part('file', Buffer.concat([JPEG, Buffer.alloc(MAX_BYTES)])), end]) },
  { name: 'a content type that is not multipart or an image', contentType: 'text/plain', body: Buffer.from('hello') },
  { name: 'multipart/mixed', contentType: `multipart/mixed; boundary=${BOUNDARY}`, body: Buffer.concat([part('file', JPEG), end]) },
  { name: 'an empty body', contentType: CONTENT_TYPE, body: Buffer.alloc(0) },
];

function assertClientError(response: LightMyRequestResponse, name: string): void {
  assert.ok(response.statusCode >= 400 && response.statusCode < 500, `${name}: ${response.statusCode} ${response.body}`);
  const body = response.json() as { detail?: unknown; error?: { message?: string } };
  const reason = typeof body.detail === 'string' ? body.detail : body.error?.message;
  assert.ok(reason && reason.length > 5, `${name}: a reason, got ${response.body}`);
}

describe('uploads', () => {
  let app: TestApp;
  let owner: SignedIn;

  before(async () => {
    app = await startTestApp({ mediaMaxBytes: MAX_BYTES });
    owner = await app.owner();
  });
  after(async () => app.close());

  async function radarUploadPath(): Promise<string> {
    const created = await owner.client.post('/api/v1/devices', { kind: 'speed_radar', name: 'Upload radar', serial: `up-${Math.random().toString(36).slice(2)}`, speedLimit: 25 });
    const key = created.body.apiKey as string;
    const sent = await app.runtime.app.inject({
      method: 'POST', url: '/api/ingest/v1/events', headers: { 'x-api-key': key, 'content-type': 'application/json' },
      payload: { events: [{ timestamp: new Date(Date.now() - 3_600_000).toISOString().slice(0, 19), speed: 40, speed_limit: 25, is_speeding: 1, has_photo: true }] },
    });
    assert.equal(sent.statusCode, 200, sent.body);
    const eventId = sent.json().created_events[0].event_id as string;
    const issued = await app.runtime.app.inject({ method: 'POST', url: `/api/ingest/v1/events/${eventId}/photo/url`, headers: { 'x-api-key': key } });
    return new URL(issued.json().upload_url as string).pathname;
  }

  it('the device photo upload answers each with a 4xx and a reason, and still takes a good photo afterwards', async () => {
    const path = await radarUploadPath();
    for (const bad of MALFORMED) {
      const response = await app.runtime.app.inject({ method: 'PUT', url: path, headers: { 'content-type': bad.contentType }, payload: bad.body });
      assertClientError(response, bad.name);
    }
    const good = await app.runtime.app.inject({ method: 'PUT', url: path, headers: { 'content-type': CONTENT_TYPE }, payload: Buffer.concat([part('file', JPEG), end]) });
    assert.equal(good.statusCode, 200, good.body);
  });

  it('maintenance attachments answer each with a 4xx and a reason', async () => {
    const fridge = (await owner.client.post('/api/v1/devices', { kind: 'refrigeration', name: 'Upload fridge', serial: 'UP-F' })).body.device.id;
    const record = (await owner.client.post(`/api/v1/devices/${fridge}/maintenance`, { type: 'inspection', performedBy: 'Ana', description: 'Checked' })).body.id;
    const url = `/api/v1/maintenance/records/${record}/attachments`;
    for (const bad of MALFORMED) {
      const response = await owner.client.request('POST', url, bad.body, { 'content-type': bad.contentType });
      assert.ok(response.status >= 400 && response.status < 500, `${bad.name}: ${response.status} ${JSON.stringify(response.body)}`);
      assert.ok((response.body as { error?: { message?: string } }).error?.message, `${bad.name}: a reason`);
    }
    assert.equal((await owner.client.get(`/api/v1/maintenance/records/${record}`)).body.attachments.length, 0);
  });

  it('refuses an image bomb from its header, quickly and with the reason, on both routes', async () => {
    assert.ok(BOMB.length < 64 * 1024, `the bomb is ${BOMB.length} bytes`);
    const path = await radarUploadPath();
    const started = performance.now();
    const photo = await app.runtime.app.inject({ method: 'PUT', url: path, headers: { 'content-type': 'image/png' }, payload: BOMB });
    const elapsed = performance.now() - started;
    assert.equal(photo.statusCode, 413, photo.body);
    assert.match(photo.json().detail, /16383 × 16383 pixels \(268\.4 megapixels\); at most 40 megapixels/);
    assert.ok(elapsed < 1000, `refused in ${Math.round(elapsed)} ms, without decoding`);

    const fridge = (await owner.client.post('/api/v1/devices', { kind: 'refrigeration', name: 'Bomb fridge', serial: 'UP-B' })).body.device.id;
    const record = (await owner.client.post(`/api/v1/devices/${fridge}/maintenance`, { type: 'inspection', performedBy: 'Ana', description: 'Checked' })).body.id;
    const attachment = await owner.client.request('POST', `/api/v1/maintenance/records/${record}/attachments`, Buffer.concat([part('file', BOMB, 'plan.png'), end]), { 'content-type': CONTENT_TYPE });
    assert.equal(attachment.status, 413);
    assert.equal(attachment.body.error.code, 'image_too_large');
  });

  it('serves a maintenance photo re-encoded as JPEG, without its EXIF', async () => {
    const fridge = (await owner.client.post('/api/v1/devices', { kind: 'refrigeration', name: 'Photo fridge', serial: 'UP-P' })).body.device.id;
    const record = (await owner.client.post(`/api/v1/devices/${fridge}/maintenance`, { type: 'inspection', performedBy: 'Ana', description: 'Checked' })).body.id;
    const withGps = await sharp({ create: { width: 120, height: 90, channels: 4, background: { r: 10, g: 120, b: 10, alpha: 0.5 } } })
      .png().withExif({ IFD3: { GPSLatitudeRef: 'N', GPSLatitude: '51/1 30/1 0/1' } }).toBuffer();
    const added = await owner.client.request('POST', `/api/v1/maintenance/records/${record}/attachments`, Buffer.concat([part('file', withGps, 'gasket.png'), end]), { 'content-type': CONTENT_TYPE });
    assert.equal(added.status, 201, JSON.stringify(added.body));
    assert.equal(added.body.contentType, 'image/jpeg');
    const served = await app.runtime.app.inject({ method: 'GET', url: added.body.url, headers: { cookie: owner.client.cookie! } });
    assert.equal(served.headers['content-type'], 'image/jpeg');
    assert.ok(!served.rawPayload.equals(withGps));
    const meta = await sharp(served.rawPayload).metadata();
    assert.deepEqual([meta.format, meta.width, meta.height, meta.exif], ['jpeg', 120, 90, undefined]);
  });
});
