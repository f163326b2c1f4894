import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { sql } from 'kysely';
import sharp from 'sharp';
import type { DevicePrincipal } from '../src/server/core/access.js';
import type { BusMessage } from '../src/server/core/bus.js';
import { addDailyCounts } from '../src/server/detection/store.js';
import type { Incident } from '../src/server/detection/rules.js';
import { ViolationRecorder } from '../src/server/detection/violations.js';
import { webhookReceiver } from './helpers/receivers.js';
import { startTestApp, type SignedIn, type TestApp } from './helpers/app.js';

/**
 * The site-safety report: camera violations of a period (seeded through the detection's own evidence path: one
 * event per incident written through ingest as the camera's device, with its photo and padded crop), their
 * acknowledgement and the frames analysed; as PDF (read back with pdftotext, pages rendered with pdftoppm to
 * test-artifacts/pdf/site-safety-*.png) and CSV; only what the requester may see; schedulable.
 */
const poppler = spawnSync('pdftotext', ['-v']).status === 0;
const skip = !poppler && !process.env.CI ? 'no pdftotext (apt-get install poppler-utils)' : false;
const ARTIFACTS = path.resolve('test-artifacts', 'pdf');
const at = (iso: string) => Date.parse(iso);

/** A 320 × 240 frame with a person-sized block, so each thumbnail shows something. */
const frame = (r: number, g: number, b: number) => sharp({ create: { width: 320, height: 240, channels: 3, background: { r: 200, g: 200, b: 190 } } })
  .composite([{ input: { create: { width: 60, height: 150, channels: 3, background: { r, g, b } } }, left: 130, top: 60 }]).jpeg().toBuffer();

describe('site-safety report', { skip }, () => {
  let app: TestApp;
  let owner: SignedIn;
  let siteA: string;
  let siteB: string;
  const progress: BusMessage[] = [];
  const eventIds = new Map<string, number>();

  async function camera(who: SignedIn, name: string, siteId: string, timezone: string): Promise<DevicePrincipal> {
    const created = await who.client.post('/api/v1/devices', { kind: 'camera', name, serial: name.toUpperCase().replace(/\W/g, '-'), siteId });
    assert.equal(created.status, 201, JSON.stringify(created.body));
    return { deviceId: created.body.device.id, keyId: '', orgId: who.orgId, siteId, kind: 'camera', name, serial: created.body.device.serial, speedLimit: null, speedUnits: null, timezone };
  }

  /** One incident as the camera's worker records it: opened (event, photo, crop), and closed when `end` is given. */
  async function violation(device: DevicePrincipal, label: string, rule: Incident['rule'], start: string, end: string | null, zoneName?: string) {
    const { ingest, photos } = app.runtime.services;
    const recorder = new ViolationRecorder(app.runtime.ctx, ingest, photos, device, () => {});
    const incident: Incident = {
      id: crypto.randomUUID(), rule, eventType: rule === 'zone_breach' ? 'zone_breach' : 'ppe_violation',
      severity: rule === 'zone_breach' ? 'critical' : rule === 'no_hardhat' ? 'high' : 'medium', trackId: eventIds.size + 1, zoneName,
      startedAt: at(start), lastSeenAt: at(start), box: { x1: 130, y1: 60, x2: 190, y2: 210 }, confidence: 0.91,
      snapshot: { at: at(start), box: { x1: 130, y1: 60, x2: 190, y2: 210 }, score: 0.91, touchesEdge: false }, frames: 3,
    };
    await recorder.record([{ kind: 'open', incident, snapshotChanged: true }], await frame(40 + eventIds.size * 7, 90, 200 - eventIds.size * 5));
    if (end) await recorder.record([{ kind: 'close', incident: { ...incident, lastSeenAt: at(end), endedAt: at(end) }, snapshotChanged: false }], null);
    const [row] = (await sql<{ event_id: string }>`SELECT event_id FROM violations WHERE incident_id = ${incident.id}::uuid`.execute(app.runtime.ctx.db)).rows;
    eventIds.set(label, Number(row!.event_id));
  }

  /** Acknowledged through the API, then dated: time to acknowledge is then known to the minute. */
  async function acknowledge(who: SignedIn, label: string, comment: string, when: string) {
    const id = eventIds.get(label)!;
    const acked = await who.client.post(`/api/v1/events/${id}/ack`, { comment });
    assert.equal(acked.status, 200, JSON.stringify(acked.body));
    await sql`UPDATE event_acknowledgements SET acknowledged_at = ${new Date(when)} WHERE event_id = ${id}`.execute(app.runtime.ctx.db);
  }

  async function generate(who: SignedIn, name: string, body: Record<string, unknown>) {
    const created = await who.client.post('/api/v1/reports', { kind: 'site_safety', from: '2026-11-02', to: '2026-11-08', ...body });
    assert.equal(created.status, 202, JSON.stringify(created.body));
    await app.runtime.services.reportRunner.runQueued();
    const report = (await who.client.get(`/api/v1/reports/${created.body.id}`)).body;
    assert.equal(report.status, 'done', report.error);
    const file = async (which: string) => {
      const answer = await app.runtime.app.inject({ method: 'GET', url: `/api/v1/reports/${report.id}/files/${which}`, headers: { cookie: who.client.cookie! } });
      assert.equal(answer.statusCode, 200);
      return answer.rawPayload;
    };
    fs.mkdirSync(ARTIFACTS, { recursive: true });
    const pdfPath = path.join(ARTIFACTS, `site-safety-${name}.pdf`);
    fs.writeFileSync(pdfPath, await file('pdf'));
    const text = (page?: number) => execFileSync('pdftotext', ['-layout', ...(page ? ['-f', String(page), '-l', String(page)] : []), pdfPath, '-'], { encoding: 'utf8' });
    return { report, pdfPath, text, csv: (await file('csv')).toString('utf8') };
  }

  before(async () => {
    app = await startTestApp({ webhookAllowPrivate: ['127.0.0.1'] });
    app.runtime.ctx.bus.subscribe((message) => {
      if (message.type === 'report.progress') progress.push(message);
    });
    owner = await app.owner('Riverside Build');
    const other = await app.owner('Other Tenant');
    // A European builder: day-first dates and the zones' European names (en-US would write GMT+1 for CET).
    assert.equal((await owner.client.patch('/api/v1/organization', { locale: 'en-GB' })).status, 200);
    siteA = (await owner.client.post('/api/v1/sites', { name: 'Tower A', timezone: 'Europe/Madrid' })).body.id;
    siteB = (await owner.client.post('/api/v1/sites', { name: 'Tower B', timezone: 'Europe/London' })).body.id;
    const yard = (await owner.client.post('/api/v1/sites', { name: 'Yard', timezone: 'Europe/London' })).body.id;
    const crane = await camera(owner, 'Crane camera', siteA, 'Europe/Madrid');
    const gate = await camera(owner, 'Gate camera', siteB, 'Europe/London');
    const yardCamera = await camera(owner, 'Yard camera', yard, 'Europe/London');
    const otherSite = (await other.client.post('/api/v1/sites', { name: 'Elsewhere', timezone: 'Europe/Madrid' })).body.id;
    const stranger = await camera(other, 'Stranger camera', otherSite, 'Europe/Madrid');

    await violation(crane, 'hat', 'no_hardhat', '2026-11-03T08:15:00Z', '2026-11-03T08:18:00Z');
    await violation(crane, 'zone', 'zone_breach', '2026-11-03T08:16:00Z', '2026-11-03T08:16:40Z', 'Crane swing');
    await violation(crane, 'vest', 'no_vest', '2026-11-05T14:00:00Z', null);
    await violation(gate, 'gate', 'no_hardhat', '2026-11-05T09:00:00Z', '2026-11-05T09:05:00Z');
    for (let i = 0; i < 26; i++) await violation(yardCamera, `yard${i}`, 'no_vest', new Date(at('2026-11-06T10:00:00Z') + i * 60_000).toISOString(), null);
    await violation(stranger, 'stranger', 'no_hardhat', '2026-11-03T08:30:00Z', '2026-11-03T08:31:00Z');
    await violation(crane, 'late', 'no_hardhat', '2026-11-09T08:00:00Z', null);

    const operator = await app.member(owner, 'operator');
    await acknowledge(operator, 'hat', 'Told the crew to wear hats', '2026-11-03T08:20:00Z');
    await acknowledge(operator, 'zone', 'Area closed off', '2026-11-03T08:26:00Z');
    await acknowledge(operator, 'gate', 'Subcontractor warned', '2026-11-05T09:30:00Z');
    await acknowledge(other, 'stranger', 'Other tenant secret', '2026-11-03T08:40:00Z');

    const day = (cameraId: string, orgId: string, date: string, decoded: number, inferred: number) => ({
      cameraId, orgId, day: date, framesDecoded: decoded, framesInferred: inferred, framesSkipped: 0, framesFailed: 0, inferenceMs: 0, pipelineMs: 0, noHardhat: 0, noVest: 0, zoneBreach: 0,
    });
    await addDailyCounts(app.runtime.ctx.db, [
      day(crane.deviceId, owner.orgId, '2026-11-03', 3000, 1200), day(crane.deviceId, owner.orgId, '2026-11-05', 2000, 800),
      day(gate.deviceId, owner.orgId, '2026-11-05', 1500, 500), day(crane.deviceId, owner.orgId, '2026-11-10', 99_000, 99_000),
      day(stranger.deviceId, other.orgId, '2026-11-03', 7000, 7000),
    ]);
  });
  after(async () => app.close());

  it('covers the organization: summary figures, the acknowledgement record, bounded thumbnails, and nothing of another tenant', async () => {
    progress.length = 0;
    const { report, pdfPath, text, csv } = await generate(owner, 'organization', {});
    assert.equal(report.kind, 'site_safety');
    assert.equal(report.siteId, null);
    assert.match(report.title, /^Site safety report · Riverside Build .* · 2 – 8 Nov 2026$/, 'the period as the organization\'s locale (en-GB) writes it');
    const mine = progress.filter((m) => m.data.id === report.id).map((m) => m.data.progress as number);
    assert.ok(mine.length >= 4, `progress steps: ${mine.join(', ')}`);
    assert.deepEqual(mine, [...mine].sort((a, b) => a - b));
    assert.equal(mine.at(-1), 100);

    const first = text(1);
    assert.match(first, /Site safety report/);
    assert.match(first, /Sites: Tower A, Tower B, Yard\./);
    assert.match(first, /Violations: 30\. Acknowledged: 3; not acknowledged: 27\. Median time to acknowledge: 10 min\./);
    assert.match(first, /Frames analysed: 2,500 of 6,500 decoded\./);
    assert.match(first, /Zone breach\s+critical\s+1\s+1\s+0/);
    assert.match(first, /No hard hat\s+major\s+2\s+2\s+0/);
    assert.match(first, /No safety vest\s+minor\s+27\s+0\s+27/);
    assert.match(first, /Crane camera\s+Tower A\s+3\s+2\s+2,000/);
    assert.match(first, /Gate camera\s+Tower B\s+1\s+1\s+500/);

    const all = text();
    // Times in each camera's site's zone: 08:15 UTC is 09:15 in Madrid, 09:00 UTC is 09:00 in London.
    assert.match(all, /03\/11, 09:15 CET\s+Crane camera\s+—\s+No hard hat\s+3 min\s+03\/11, 09:20 CET,\s+operator/);
    assert.match(all, /03\/11, 09:16 CET\s+Crane camera\s+Crane swing\s+Zone breach\s+40 s/);
    assert.match(all, /05\/11, 09:00 GMT\s+Gate camera\s+—\s+No hard hat\s+5 min/);
    assert.match(all, /Comment: "Told the crew to wear hats"/);
    assert.match(all, /Comment: "Subcontractor warned"/);
    assert.match(all, /\(after 10 min\)\. Comment: "Area closed off"/);
    assert.match(all, /… and 6 more violations with photos, not shown here/);
    assert.match(all, /Violations per day/);
    for (const foreign of ['Stranger camera', 'Other tenant secret', 'Elsewhere']) assert.ok(!all.includes(foreign) && !csv.includes(foreign), foreign);
    assert.ok(!all.includes('09/11, 09:00'), 'a violation after the period is left out');

    const lines = csv.trim().split('\n');
    assert.equal(lines.length, 31);
    assert.match(lines[0]!, /^event_id,ts_utc,local_time,site,camera,zone,rule,severity,duration_seconds,ended_utc,acknowledged_by,acknowledged_utc,comment$/);
    assert.ok(lines.some((l) => l.includes('Crane swing,zone_breach,critical,40,') && l.endsWith('Area closed off')));

    execFileSync('pdftoppm', ['-png', '-r', '60', '-f', '1', '-l', '2', pdfPath, path.join(ARTIFACTS, 'site-safety')]);
  });

  it('a site-restricted member\'s organization-wide report holds only their sites; a member of other sites cannot open it', async () => {
    const towerA = await app.member(owner, 'operator', [siteA]);
    const { report, text } = await generate(towerA, 'restricted', {});
    const all = text();
    assert.match(all, /Sites?: Tower A\./);
    assert.match(all, /Violations: 3\. Acknowledged: 2; not acknowledged: 1\./);
    assert.match(all, /Frames analysed: 2,000 of 5,000 decoded\./);
    for (const hidden of ['Gate camera', 'Subcontractor warned', 'Yard camera', 'Tower B']) assert.ok(!all.includes(hidden), hidden);
    const towerB = await app.member(owner, 'viewer', [siteB]);
    assert.equal((await towerB.client.get(`/api/v1/reports/${report.id}`)).status, 404);
    assert.ok(!(await towerB.client.get('/api/v1/reports')).body.items.some((r: { id: string }) => r.id === report.id));
    assert.equal((await owner.client.get(`/api/v1/reports/${report.id}`)).status, 200);
  });

  it('covers one camera or one site, and refuses a device that is not a camera', async () => {
    const cameras = (await owner.client.get('/api/v1/devices?kind=camera')).body.items as { id: string; name: string }[];
    const gate = cameras.find((c) => c.name === 'Gate camera')!;
    const one = await generate(owner, 'camera', { deviceId: gate.id });
    assert.match(one.text(1), /Violations: 1\. Acknowledged: 1; not acknowledged: 0\./);
    const site = await generate(owner, 'site', { siteId: siteA });
    assert.match(site.text(1), /Tower A/);
    assert.match(site.text(1), /Violations: 3\./);
    const radar = await owner.client.post('/api/v1/devices', { kind: 'speed_radar', name: 'Radar', serial: 'R-1', speedLimit: 30, siteId: siteA });
    const refused = await owner.client.post('/api/v1/reports', { kind: 'site_safety', deviceId: radar.body.device.id, from: '2026-11-02', to: '2026-11-08' });
    assert.equal(refused.status, 400);
    assert.match(JSON.stringify(refused.body), /a site safety report needs a camera device, not a speed radar/);
    const noSubject = await owner.client.post('/api/v1/reports', { kind: 'compliance', from: '2026-11-02', to: '2026-11-08' });
    assert.equal(noSubject.status, 400, 'other kinds still need a device or a site');
  });

  it('accepts an organization-wide weekly schedule of the new kind, whose report is made on sending', async () => {
    const receiver = await webhookReceiver();
    try {
      const created = await owner.client.post('/api/v1/report-schedules', {
        name: 'Weekly safety', kind: 'site_safety', cadence: 'weekly', dayOfWeek: 1, timeOfDay: '07:00', webhookUrl: receiver.url,
      });
      assert.equal(created.status, 201, JSON.stringify(created.body));
      assert.equal(created.body.schedule.kind, 'site_safety');
      assert.equal(created.body.schedule.deviceId, null);
      assert.equal(created.body.schedule.siteId, null);
      const run = await owner.client.post(`/api/v1/report-schedules/${created.body.schedule.id}/send`);
      assert.equal(run.status, 202, JSON.stringify(run.body));
      await app.runtime.services.reportRunner.runQueued();
      const report = (await owner.client.get(`/api/v1/reports/${run.body.reportId}`)).body;
      assert.equal(report.kind, 'site_safety');
      assert.equal(report.status, 'done', report.error);
    } finally {
      await receiver.close();
    }
  });
});
