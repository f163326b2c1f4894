import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import S3rver from 's3rver';
import sharp from 'sharp';
import { S3MediaStorage } from '../src/server/core/media.js';
import { startTestApp, type TestApp } from './helpers/app.js';

/** A real S3 API (s3rver) on loopback: the S3 driver is tested against the protocol, not a mock. */
describe('S3 media storage', () => {
  let server: S3rver;
  let endpoint: string;
  let dir: string;
  let app: TestApp;
  const bucket = 'vigil-media';
  before(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vigil-s3-'));
    server = new S3rver({ port: 0, address: '127.0.0.1', directory: dir, silent: true, configureBuckets: [{ name: bucket, configs: [] }] });
    const address = (await server.run()) as AddressInfo;
    endpoint = `http://127.0.0.1:${address.port}`;
    app = await startTestApp({
      s3: { bucket, region: 'us-east-1', endpoint, accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER', forcePathStyle: true },
    });
  });
  after(async () => {
    await app.close();
    await server.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('stores, reads, signs and deletes objects byte for byte', async () => {
    const storage = new S3MediaStorage({ bucket, region: 'us-east-1', endpoint, accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER', forcePathStyle: true });
    const data = Buffer.from(Array.from({ length: 70_000 }, (_, i) => i % 251));
    await storage.put('photos/a/b.jpg', data, 'image/jpeg');
    assert.ok((await storage.get('photos/a/b.jpg'))!.equals(data));
    assert.equal(await storage.exists('photos/a/b.jpg'), true);
    const url = await storage.readUrl('photos/a/b.jpg', 60);
    assert.match(url, /X-Amz-Signature=/);
    assert.ok(Buffer.from(await (await fetch(url)).arrayBuffer()).equals(data));
    await storage.delete('photos/a/b.jpg');
    assert.equal(await storage.exists('photos/a/b.jpg'), false);
    assert.equal(await storage.get('photos/a/b.jpg'), null);
    await assert.rejects(storage.put('../escape', data, 'image/jpeg'), /unsafe media key/);
  });

  it('serves an event photo as a redirect to a short-lived signed URL', async () => {
    const owner = await app.owner();
    const created = await owner.client.post('/api/v1/devices', { kind: 'speed_radar', name: 'S3 radar', serial: 'S3-1', speedLimit: 25 });
    const key = created.body.apiKey;
    const upload = await app.runtime.app.inject({
      method: 'POST', url: '/api/ingest/v1/events', headers: { 'x-api-key': key, 'content-type': 'application/json' },
      payload: '{"events": [{"timestamp": "2025-06-01T07:30:00", "speed": 40.0, "speed_limit": 25.0, "is_speeding": 1, "has_photo": true}]}',
    });
    const eventId = upload.json().created_events[0].event_id;
    const issued = (await app.runtime.app.inject({ method: 'POST', url: `/api/ingest/v1/events/${eventId}/photo/url`, headers: { 'x-api-key': key } })).json();
    const jpeg = await sharp({ create: { width: 640, height: 480, channels: 3, background: 'white' } }).jpeg().toBuffer();
    const put = await app.runtime.app.inject({ method: 'PUT', url: new URL(issued.upload_url).pathname, headers: { 'content-type': 'image/jpeg' }, payload: jpeg });
    assert.equal(put.statusCode, 200, put.body);
    const confirm = await app.runtime.app.inject({
      method: 'POST', url: `/api/ingest/v1/events/${eventId}/photo/confirm?photo_key=${encodeURIComponent(issued.photo_key)}`, headers: { 'x-api-key': key },
    });
    assert.equal(confirm.statusCode, 200, confirm.body);
    const photo = await app.runtime.app.inject({ method: 'GET', url: `/api/v1/events/${eventId}/photo`, headers: { cookie: owner.client.cookie! } });
    assert.equal(photo.statusCode, 302);
    const location = String(photo.headers.location);
    assert.ok(location.startsWith(endpoint), location);
    const stored = Buffer.from(await (await fetch(location)).arrayBuffer());
    assert.equal((await sharp(stored).metadata()).width, 640, 'the re-encoded photo, at its full size');
    const thumb = await app.runtime.app.inject({ method: 'GET', url: `/api/v1/events/${eventId}/photo?size=thumb`, headers: { cookie: owner.client.cookie! } });
    const thumbBytes = Buffer.from(await (await fetch(String(thumb.headers.location))).arrayBuffer());
    assert.equal((await sharp(thumbBytes).metadata()).width, 320);
  });
});
