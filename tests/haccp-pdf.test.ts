import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { startTestApp, type SignedIn, type TestApp } from './helpers/app.js';

/**
 * The HACCP temperature compliance record as an inspector reads it: page 1 sums up every unit and has lines
 * to sign; each alert's acknowledgement comment and corrective action are printed in full. The pages are
 * rendered to PNG with poppler's pdftoppm (test-artifacts/pdf/haccp-*.png) and read back with pdftotext.
 */
const poppler = spawnSync('pdftoppm', ['-v']).status === 0;
const skip = !poppler && !process.env.CI ? 'no pdftoppm (apt-get install poppler-utils)' : false;
const ARTIFACTS = path.resolve('test-artifacts', 'pdf');

describe('HACCP compliance PDF', { skip }, () => {
  let app: TestApp;
  let owner: SignedIn;

  before(async () => {
    app = await startTestApp();
    owner = await app.owner('Polo Sanca Foods');
  });

  after(() => app.close());

  it('has a summary and sign-off lines on page 1, and prints acknowledgement comments and corrective actions', async () => {
    const site = (await owner.client.post('/api/v1/sites', { name: 'Branch Centro', timezone: 'Europe/Madrid' })).body.id;
    const rule = await owner.client.post('/api/v1/alert-rules', {
      name: 'Too warm', scope: 'organization', condition: 'metric', metric: 'temperature', operator: 'gt', threshold: 5, durationSeconds: 300, severity: 'critical', autoResolve: false,
    });
    assert.equal(rule.status, 201, JSON.stringify(rule.body));
    const warm = await owner.client.post('/api/v1/devices', { kind: 'refrigeration', name: 'Walk-in cooler', serial: 'W-1', siteId: site, settings: { safeRange: { min: 0, max: 5 } } });
    const unset = await owner.client.post('/api/v1/devices', { kind: 'refrigeration', name: 'Bar fridge', serial: 'B-1', siteId: site });
    const items: { ts: string; values: { temperature: number } }[] = [];
    for (let m = 8 * 60; m <= 12 * 60; m += 5) {
      const temperature = m >= 9 * 60 + 10 && m < 9 * 60 + 30 ? 9.5 : 3;
      items.push({ ts: new Date(Date.UTC(2026, 5, 1, 0, m)).toISOString(), values: { temperature } });
    }
    for (const device of [warm, unset]) {
      const sent = await app.runtime.app.inject({ method: 'POST', url: '/api/v1/ingest/telemetry', headers: { 'x-api-key': device.body.apiKey }, payload: { items } });
      assert.equal(sent.statusCode, 200, sent.body);
    }
    for (const device of [warm, unset]) {
      const [alert] = (await owner.client.get(`/api/v1/devices/${device.body.device.id}/alerts`)).body.items;
      assert.equal((await owner.client.post(`/api/v1/alerts/${alert.id}/acknowledge`, { comment: 'Door left open by the morning delivery' })).status, 200);
      if (device === warm) assert.equal((await owner.client.post(`/api/v1/alerts/${alert.id}/resolve`, { comment: 'Stock probed at 4.1 °C and kept; door closer repaired' })).status, 200);
    }

    const created = await owner.client.post('/api/v1/reports', { kind: 'compliance', siteId: site, from: '2026-06-01', to: '2026-06-01' });
    assert.equal(created.status, 202, JSON.stringify(created.body));
    await app.runtime.services.reportRunner.runQueued();
    const report = (await owner.client.get(`/api/v1/reports/${created.body.id}`)).body;
    assert.equal(report.status, 'done', report.error);
    const pdf = await app.runtime.app.inject({ method: 'GET', url: `/api/v1/reports/${report.id}/files/pdf`, headers: { cookie: owner.client.cookie! } });
    assert.equal(pdf.statusCode, 200);

    fs.mkdirSync(ARTIFACTS, { recursive: true });
    const file = path.join(ARTIFACTS, 'haccp.pdf');
    fs.writeFileSync(file, pdf.rawPayload);
    execFileSync('pdftoppm', ['-png', '-r', '60', file, path.join(ARTIFACTS, 'haccp')]);
    const pages = fs.readdirSync(ARTIFACTS).filter((name) => /^haccp-\d+\.png$/.test(name));
    assert.equal(pages.length, 3, pages.join(', '));
    const text = (page: number) => execFileSync('pdftotext', ['-layout', '-f', String(page), '-l', String(page), file, '-'], { encoding: 'utf8' });

    const first = text(1);
    assert.match(first, /Summary/);
    assert.match(first, /Walk-in cooler\s+0\.0 °C to 5\.0 °C\s+20 min\s+1\s+1\s+0/);
    assert.match(first, /Bar fridge\s+not set\s+—\s+—\s+1\s+1/);
    assert.match(first, /1 of 2 units left their safe range/);
    assert.match(first, /Not\s+assessed \(no safe range set\): Bar fridge\./);
    assert.match(first, /Review and sign-off/);
    for (const line of ['Reviewed by \\(name\\)', 'Role', 'Signature', 'Date']) assert.match(first, new RegExp(`^\\s*${line}\\s*$`, 'm'));

    const cooler = text(2) + text(3);
    assert.match(cooler, /Acknowledged by .*: "Door left open by the morning delivery"/);
    assert.match(cooler, /Corrective action: "Stock probed at 4\.1 °C and kept; door closer\s+repaired"/);
  });
});
