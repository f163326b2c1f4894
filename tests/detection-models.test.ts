import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import sharp from 'sharp';
import type { Frame, FrameConsumer } from '../src/server/cameras/decoder/frame-hub.js';
import { DetectionRunner } from '../src/server/detection/runner.js';
import { startTestApp, type SignedIn, type TestApp } from './helpers/app.js';
import { writeTinyYoloModel, PPE_CLASSES } from './helpers/onnx-models.js';
import { eventually } from './helpers/process.js';
import { tempDir } from './helpers/rtsp.js';

// Two installed models beside the default: "bare" always sees a person with a bare head, the default a person
// wearing a hard hat; "broken" is not a model at all.
const SIZE = 320;
const person = { cx: 160, cy: 160, w: 100, h: 200, classId: PPE_CLASSES.indexOf('Person'), score: 0.9 };
const head = (cls: string) => ({ cx: 160, cy: 80, w: 40, h: 30, classId: PPE_CLASSES.indexOf(cls), score: 0.8 });

describe('detection models per organization', () => {
  let dir: string;
  let app: TestApp;
  let owner: SignedIn;
  let viewer: SignedIn;
  let stranger: SignedIn;

  before(async () => {
    dir = tempDir();
    const options = { classNames: PPE_CLASSES, inputWidth: SIZE, inputHeight: SIZE };
    const defaultPath = await writeTinyYoloModel(dir, 'ppe.onnx', { ...options, boxes: [person, head('Hardhat')] });
    await writeTinyYoloModel(dir, 'bare.onnx', { ...options, boxes: [person, head('NO-Hardhat')] });
    fs.writeFileSync(path.join(dir, 'broken.onnx'), 'not a model');
    app = await startTestApp({ detectionModelPath: defaultPath });
    owner = await app.owner('Model Builders');
    [viewer, stranger] = await Promise.all([app.member(owner, 'viewer'), app.owner('Other Builders')]);
  });
  after(async () => {
    await app.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('lists the installed models with their classes, the default first, and says why a file cannot be used', async () => {
    const listed = await viewer.client.get('/api/v1/detection/models');
    assert.equal(listed.status, 200, JSON.stringify(listed.body));
    assert.deepEqual(listed.body.models.map((m: { name: string; isDefault: boolean }) => [m.name, m.isDefault]), [['ppe', true], ['bare', false], ['broken', false]]);
    const [ppe, , broken] = listed.body.models;
    assert.deepEqual([ppe.classes, ppe.inputWidth, ppe.problem], [PPE_CLASSES, SIZE, null]);
    assert.match(broken.problem, /not an ONNX model/);
    assert.equal(listed.body.chosen, null);
  });

  it('lets an admin choose an installed model; other names, paths and unusable files are refused; viewers cannot choose', async () => {
    for (const [model, message] of [['../ppe', /model name/], ['missing', /not installed/], ['broken', /cannot be used/]] as const) {
      const refused = await owner.client.put('/api/v1/detection/model', { model });
      assert.equal(refused.status, 400, `${model}: ${JSON.stringify(refused.body)}`);
      assert.match(refused.body.error.details[0].message, message);
    }
    assert.equal((await viewer.client.put('/api/v1/detection/model', { model: 'bare' })).status, 403);
    const chosen = await owner.client.put('/api/v1/detection/model', { model: 'bare' });
    assert.equal(chosen.status, 200, JSON.stringify(chosen.body));
    assert.equal(chosen.body.chosen, 'bare');
    assert.equal((await stranger.client.get('/api/v1/detection/models')).body.chosen, null, 'a choice is the organization\'s own');
    const audit = await owner.client.get('/api/v1/audit?action=detection.model_chosen');
    assert.equal(audit.body.items[0]?.details.changes.model.to, 'bare');
    assert.equal((await owner.client.put('/api/v1/detection/model', { model: null })).body.chosen, null, 'back to the default');
  });

  it('switches the organization\'s running cameras to the chosen model at once, without restarting their decoders', async () => {
    const device = await owner.client.post('/api/v1/devices', { kind: 'camera', name: 'Gate camera', serial: 'GATE-1' });
    const cameraId = device.body.device.id as string;
    assert.equal((await owner.client.patch(`/api/v1/cameras/${cameraId}`, { detection: { mode: 'ppe' } })).status, 200);
    let consumer: FrameConsumer | undefined;
    let subscriptions = 0;
    const source = { subscribe: (_id: string, c: FrameConsumer) => ((consumer = c), (subscriptions += 1), () => undefined) };
    const { services } = app.runtime;
    const runner = new DetectionRunner(app.runtime.ctx, source, services.cameras, services.ingest, services.photos, services.detectionModels);
    try {
      await runner.start(cameraId);
      // Light and dark frames in turn: motion, so every frame goes to the model.
      const pictures = await Promise.all(['#808080', '#202020'].map((background) => sharp({ create: { width: SIZE, height: SIZE, channels: 3, background } }).jpeg().toBuffer()));
      let sequence = 0;
      const feed = () => consumer!({ cameraId, jpeg: pictures[sequence % 2]!, at: Date.now(), sequence: ++sequence, origin: 'camera' } satisfies Frame);
      const violations = async () => (await owner.client.get(`/api/v1/events?deviceId=${cameraId}&kind=ppe_violation`)).body.items.length as number;
      for (let i = 0; i < 5; i++) {
        feed();
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
      assert.equal(await violations(), 0, 'the default model sees a hard hat');

      assert.equal((await owner.client.put('/api/v1/detection/model', { model: 'bare' })).status, 200);
      const seen = await eventually(async () => {
        feed();
        return (await violations()) === 1;
      }, 10_000, 200);
      assert.ok(seen, 'the chosen model sees the bare head');
      assert.equal(subscriptions, 1, 'the camera kept its frame subscription');
    } finally {
      await runner.close();
    }
  });
});
