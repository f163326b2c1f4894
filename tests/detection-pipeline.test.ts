import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import sharp from 'sharp';
import type { Frame, FrameConsumer } from '../src/server/cameras/decoder/frame-hub.js';
import { DetectionRunner } from '../src/server/detection/runner.js';
import { startTestApp, type ApiClient, type SignedIn, type TestApp } from './helpers/app.js';
import { writeTinyYoloModel, PPE_CLASSES } from './helpers/onnx-models.js';
import { eventually } from './helpers/process.js';
import { makeClip, tempDir } from './helpers/rtsp.js';

// The real worker: a lease manager runs each camera's decoder (ffmpeg playing a placeholder clip made from
// testsrc) and its detector (onnxruntime on a tiny model that always sees one person with a bare head).
const SIZE = 320;
const PERSON = PPE_CLASSES.indexOf('Person');
const NO_HARDHAT = PPE_CLASSES.indexOf('NO-Hardhat');
// Person box 110..210 × 60..260 (feet at 0.5, 0.8125 of the frame); a bare head in its top.
const BOXES = [
  { cx: 160, cy: 160, w: 100, h: 200, classId: PERSON, score: 0.9 },
  { cx: 160, cy: 80, w: 40, h: 30, classId: NO_HARDHAT, score: 0.8 },
];
const ZONE = { name: 'Crane swing', polygon: [[0.3, 0.6], [0.7, 0.6], [0.7, 0.95], [0.3, 0.95]] };

function upload(client: ApiClient, url: string, data: Buffer) {
  const boundary = `----vigil${Math.random().toString(16).slice(2)}`;
  const body = Buffer.concat([
    Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="site.mp4"\r\nContent-Type: video/mp4\r\n\r\n`),
    data,
    Buffer.from(`\r\n--${boundary}--\r\n`),
  ]);
  return client.request('POST', url, body, { 'content-type': `multipart/form-data; boundary=${boundary}` });
}

/** A camera playing the clip as its source, with these detection settings. */
async function fileCamera(owner: SignedIn, clip: Buffer, name: string, siteId: string | null, detection?: Record<string, unknown>) {
  const device = await owner.client.post('/api/v1/devices', { kind: 'camera', name, serial: name.toUpperCase().replace(/\W/g, '-'), siteId });
  assert.equal(device.status, 201, JSON.stringify(device.body));
  const id = device.body.device.id as string;
  assert.equal((await upload(owner.client, `/api/v1/cameras/${id}/placeholder`, clip)).status, 200);
  const patched = await owner.client.patch(`/api/v1/cameras/${id}`, { source: 'file', inferenceSize: SIZE, targetFps: 2, ...(detection && { detection }) });
  assert.equal(patched.status, 200, JSON.stringify(patched.body));
  return id;
}

describe('detection pipeline', () => {
  let dir: string;
  let clip: Buffer;
  let modelPath: string;

  before(async () => {
    dir = tempDir();
    clip = fs.readFileSync(makeClip(dir, `${SIZE}x${SIZE}`));
    modelPath = await writeTinyYoloModel(dir, 'ppe.onnx', { classNames: PPE_CLASSES, boxes: BOXES, inputWidth: SIZE, inputHeight: SIZE });
  });
  after(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('without a model a camera still streams and says detection is off', async () => {
    const app = await startTestApp({ detectionModelPath: path.join(dir, 'missing.onnx') });
    try {
      const owner = await app.owner('No Model Builders');
      const id = await fileCamera(owner, clip, 'Gate camera', null);
      app.runtime.cameraLeases.start();
      const seen = await eventually(async () => {
        const camera = (await owner.client.get(`/api/v1/cameras/${id}`)).body;
        return camera.status === 'online' && camera.detection.status === 'off';
      }, 20_000);
      const camera = (await owner.client.get(`/api/v1/cameras/${id}`)).body;
      assert.ok(seen, JSON.stringify(camera));
      assert.match(camera.detection.statusCause, /^detection off: no model installed/);
      assert.ok(app.runtime.services.decoders.latestFrame(id), 'frames flow');
    } finally {
      await app.close();
    }
  });

  describe('with a model', () => {
    let app: TestApp;
    let owner: SignedIn;
    let other: SignedIn;
    let siteA: string;
    let siteB: string;
    let cameraId: string;
    // eslint-disable-next-line @typescript-eslint/no-explicit-any -- events are read field by field, as the API returns them
    type Event = Record<string, any>;
    let ppe: Event;
    let zone: Event;

    const violations = async (client: ApiClient, query = '') => (await client.get(`/api/v1/events?deviceId=${cameraId}${query}`)).body.items as Event[];

    before(async () => {
      app = await startTestApp({ detectionModelPath: modelPath });
      owner = await app.owner('Riverside Build');
      other = await app.owner('Other Tenant');
      siteA = (await owner.client.post('/api/v1/sites', { name: 'Tower A' })).body.id;
      siteB = (await owner.client.post('/api/v1/sites', { name: 'Tower B' })).body.id;
      cameraId = await fileCamera(owner, clip, 'Crane camera', siteA, { mode: 'both', zones: [ZONE] });
      app.runtime.cameraLeases.start();
    });
    after(async () => {
      await app.close();
    });

    it('refuses zones that cannot work, with the reason', async () => {
      const patch = (detection: unknown) => owner.client.patch(`/api/v1/cameras/${cameraId}`, { detection });
      const square = [[0.1, 0.1], [0.2, 0.1], [0.2, 0.2]];
      for (const bad of [
        { zones: [{ name: 'Two points', polygon: [[0.1, 0.1], [0.2, 0.2]] }] },
        { zones: [{ name: 'Outside', polygon: [[0.1, 0.1], [1.5, 0.1], [0.2, 0.2]] }] },
        { zones: [{ name: 'Many', polygon: Array.from({ length: 51 }, (_, i) => [Math.cos(i) / 3 + 0.5, Math.sin(i) / 3 + 0.5]) }] },
        { masks: [[[0.1, 0.1], [0.2, 0.2]]] },
        { mode: 'everything' },
        { confidence: 1.5 },
      ]) {
        const answer = await patch(bad);
        assert.equal(answer.status, 400, JSON.stringify(bad));
      }
      const twice = await patch({ zones: [{ name: 'Pit', polygon: square }, { name: 'pit ', polygon: square }] });
      assert.equal(twice.status, 400);
      assert.match(twice.body.error.message, /names another zone/);
      const flat = await patch({ zones: [{ name: 'Line', polygon: [[0.1, 0.1], [0.2, 0.2], [0.3, 0.3]] }] });
      assert.equal(flat.status, 400);
      assert.match(flat.body.error.message, /encloses no area/);
      const camera = (await owner.client.get(`/api/v1/cameras/${cameraId}`)).body;
      assert.deepEqual(camera.detection.zones, [ZONE], 'nothing refused was stored');
    });

    it('one person without a hard hat inside a zone is one ppe_violation and one zone_breach, with a photo, not one per frame', async () => {
      const both = await eventually(async () => {
        const items = await violations(owner.client);
        return items.some((e) => e.kind === 'ppe_violation' && e.photoUrl) && items.some((e) => e.kind === 'zone_breach' && e.photoUrl);
      }, 20_000);
      assert.ok(both, JSON.stringify(await violations(owner.client)));
      const camera = (await owner.client.get(`/api/v1/cameras/${cameraId}`)).body;
      assert.equal(camera.detection.status, 'running');
      // The person stays in view: more frames are analysed, and still no second event.
      const inferred = async () => {
        await app.runtime.services.detection.flushStatistics();
        return (await owner.client.get(`/api/v1/cameras/${cameraId}/statistics`)).body.totals.framesInferred as number;
      };
      const before = await inferred();
      assert.ok(await eventually(async () => (await inferred()) >= before + 4, 20_000), 'frames keep being analysed');
      const items = await violations(owner.client);
      assert.deepEqual(items.map((e) => e.kind).sort(), ['ppe_violation', 'zone_breach']);
      ppe = items.find((e) => e.kind === 'ppe_violation')!;
      zone = items.find((e) => e.kind === 'zone_breach')!;
      assert.equal(ppe.severity, 'major');
      assert.equal(ppe.attributes.rule, 'no_hardhat');
      assert.equal(ppe.attributes.zone, ZONE.name, 'the zone the person stood in');
      assert.equal(typeof ppe.attributes.trackId, 'number');
      assert.ok(ppe.attributes.confidence > 0.8);
      assert.deepEqual(ppe.attributes.box, { x1: 0.3438, y1: 0.1875, x2: 0.6563, y2: 0.8125 });
      assert.equal(zone.severity, 'critical');
      assert.equal(zone.attributes.rule, 'zone_breach');
      assert.equal(zone.attributes.zone, ZONE.name);
      assert.equal(ppe.violation.endedAt, null, 'still going on');

      const image = (size: string) => app.runtime.app.inject({ method: 'GET', url: `/api/v1/events/${ppe.id}/photo?size=${size}`, headers: { cookie: owner.client.cookie! } });
      const photo = await image('full');
      assert.equal(photo.statusCode, 200);
      assert.equal(photo.headers['content-type'], 'image/jpeg');
      const full = await sharp(photo.rawPayload).metadata();
      assert.deepEqual([full.width, full.height], [SIZE, SIZE], 'the whole frame');
      const thumb = await image('thumb');
      assert.equal(thumb.statusCode, 200);
      const crop = await sharp(thumb.rawPayload).metadata();
      // The person (100 × 200) with a quarter of their size around them: 150 × 300, cut at the frame's edges.
      assert.deepEqual([crop.width, crop.height], [150, 300]);
    });

    it('another tenant gets 404 for the violation, its photo, its acknowledgement and the camera\'s statistics', async () => {
      assert.equal((await other.client.get(`/api/v1/events/${ppe.id}`)).status, 404);
      assert.equal((await other.client.get(`/api/v1/events/${ppe.id}/photo`)).status, 404);
      assert.equal((await other.client.get(`/api/v1/events/${ppe.id}/photo?size=thumb`)).status, 404);
      assert.equal((await other.client.post(`/api/v1/events/${ppe.id}/ack`, { comment: 'not mine' })).status, 404);
      assert.equal((await other.client.get(`/api/v1/cameras/${cameraId}/statistics`)).status, 404);
      assert.deepEqual((await other.client.get('/api/v1/cameras/statistics')).body.cameras, []);
    });

    it('a member restricted to another site sees none of these violations', async () => {
      const elsewhere = await app.member(owner, 'manager', [siteB]);
      assert.deepEqual((await elsewhere.client.get('/api/v1/events?kind=ppe_violation')).body.items, []);
      assert.equal((await elsewhere.client.get(`/api/v1/events/${ppe.id}`)).status, 404);
      assert.equal((await elsewhere.client.get(`/api/v1/events/${ppe.id}/photo`)).status, 404);
      assert.deepEqual((await elsewhere.client.get('/api/v1/cameras/statistics')).body.cameras, []);
      const here = await app.member(owner, 'viewer', [siteA]);
      assert.equal((await here.client.get(`/api/v1/events/${ppe.id}`)).status, 200);
    });

    it('operators acknowledge one or several violations with a comment; viewers cannot; nobody below admin deletes evidence', async () => {
      const operator = await app.member(owner, 'operator');
      const viewer = await app.member(owner, 'viewer');
      assert.equal((await viewer.client.post(`/api/v1/events/${ppe.id}/ack`, { comment: 'seen' })).status, 403);
      const acked = await operator.client.post(`/api/v1/events/${ppe.id}/ack`, { comment: 'Told the crew to wear hats' });
      assert.equal(acked.status, 200, JSON.stringify(acked.body));
      assert.equal(acked.body.acknowledgement.by, operator.email);
      assert.equal(acked.body.acknowledgement.comment, 'Told the crew to wear hats');
      assert.equal((await operator.client.post(`/api/v1/events/${ppe.id}/ack`, {})).status, 409, 'the first acknowledgement stands');
      const bulk = await operator.client.post('/api/v1/events/ack', { ids: [Number(ppe.id), Number(zone.id), 999_999_999], comment: 'Area closed' });
      assert.equal(bulk.status, 200, JSON.stringify(bulk.body));
      assert.deepEqual(bulk.body, { acknowledged: [zone.id], alreadyAcknowledged: 1, notFound: 1 });
      assert.deepEqual(await violations(owner.client, '&acknowledged=false'), []);
      assert.equal((await operator.client.delete(`/api/v1/events/${ppe.id}`)).status, 403);
      assert.equal((await owner.client.get(`/api/v1/events/${ppe.id}/photo`)).status, 200, 'the evidence is still there');
    });

    it('statistics count frames decoded and inferred and the violations by rule, per camera and for the organization', async () => {
      await app.runtime.services.detection.flushStatistics();
      const own = (await owner.client.get(`/api/v1/cameras/${cameraId}/statistics`)).body;
      assert.ok(own.totals.framesInferred > 0);
      assert.ok(own.totals.framesDecoded >= own.totals.framesInferred);
      assert.deepEqual(own.totals.violations, { no_hardhat: 1, no_vest: 0, zone_breach: 1 });
      assert.ok(own.totals.inferenceMsAverage > 0);
      const org = (await owner.client.get('/api/v1/cameras/statistics')).body;
      assert.deepEqual(org.cameras.map((c: { cameraId: string }) => c.cameraId), [cameraId]);
      assert.equal((await owner.client.get('/api/v1/cameras/statistics?from=2026-02-01&to=2026-01-01')).status, 400);
    });

    it('stopping the worker ends the open violations: their end is recorded', async () => {
      await app.runtime.cameraLeases.stop();
      const ended = (await owner.client.get(`/api/v1/events/${ppe.id}`)).body;
      assert.ok(ended.violation.endedAt, JSON.stringify(ended.violation));
      assert.ok(Date.parse(ended.violation.endedAt) >= Date.parse(ended.violation.startedAt));
      assert.equal((await owner.client.get(`/api/v1/cameras/${cameraId}`)).body.detection.status, 'idle');
    });

    it('never holds up the decoder: one frame analysed at a time, the rest skipped; a corrupt frame is counted and skipped', async () => {
      let consumer: FrameConsumer | undefined;
      const source = { subscribe: (_id: string, c: FrameConsumer) => ((consumer = c), () => undefined) };
      const { services } = app.runtime;
      const runner = new DetectionRunner(app.runtime.ctx, source, services.cameras, services.ingest, services.photos, services.detectionModels);
      const quiet = await fileCamera(owner, clip, 'Bench camera', siteA, { mode: 'ppe' });
      await runner.start(quiet);
      const jpeg = await sharp({ create: { width: SIZE, height: SIZE, channels: 3, background: '#808080' } }).jpeg().toBuffer();
      const frame = (sequence: number, data = jpeg): Frame => ({ cameraId: quiet, jpeg: data, at: Date.now(), sequence, origin: 'camera' });
      consumer!(frame(1, Buffer.from('not a jpeg at all')));
      await eventually(async () => {
        await runner.flushStatistics();
        return (await owner.client.get(`/api/v1/cameras/${quiet}/statistics`)).body.totals.framesFailed === 1;
      }, 5000);
      const started = performance.now();
      for (let i = 2; i <= 11; i++) consumer!(frame(i));
      const handOff = performance.now() - started;
      await runner.close();
      const totals = (await owner.client.get(`/api/v1/cameras/${quiet}/statistics`)).body.totals;
      assert.deepEqual([totals.framesDecoded, totals.framesFailed, totals.framesInferred, totals.framesSkipped], [11, 1, 1, 9]);
      assert.ok(handOff < 500, `handing 10 frames over took ${handOff} ms`);
    });
  });
});
