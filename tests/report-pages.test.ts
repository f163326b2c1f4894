import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { renderPdf, table } from '../src/server/reports/pdf.js';
import { startTestApp, type SignedIn, type TestApp } from './helpers/app.js';
import { pdfContentStreams, pdfText } from './helpers/pdf.js';

/**
 * Report pages as a reader sees them: each PDF is rendered to PNG with poppler's pdftoppm
 * (test-artifacts/pdf/*.png, looked at when a report's layout changes) and its words are located with
 * pdftotext -bbox, so a table rule drawn through a wrapped cell is caught, not only missing text.
 */
const poppler = spawnSync('pdftoppm', ['-v']).status === 0;
const skip = !poppler && !process.env.CI ? 'no pdftoppm (apt-get install poppler-utils)' : false;
const ARTIFACTS = path.resolve('test-artifacts', 'pdf');

/** Writes the PDF and its pages as PNG under test-artifacts/pdf; returns the PDF's path. */
function renderPages(name: string, pdf: Buffer): { file: string; pages: string[] } {
  fs.mkdirSync(ARTIFACTS, { recursive: true });
  const file = path.join(ARTIFACTS, `${name}.pdf`);
  fs.writeFileSync(file, pdf);
  execFileSync('pdftoppm', ['-r', '60', '-png', file, path.join(ARTIFACTS, name)]);
  const pages = fs.readdirSync(ARTIFACTS).filter((f) => f.startsWith(`${name}-`) && f.endsWith('.png'));
  return { file, pages };
}

/** Every word of page 1 with its box (points from the top), from pdftotext -bbox. */
function words(file: string): { text: string; yMin: number; yMax: number }[] {
  const html = execFileSync('pdftotext', ['-bbox', '-f', '1', '-l', '1', file, '-']).toString();
  return [...html.matchAll(/<word xMin="[\d.]+" yMin="([\d.]+)" xMax="[\d.]+" yMax="([\d.]+)">([^<]*)<\/word>/g)]
    .map((m) => ({ yMin: Number(m[1]), yMax: Number(m[2]), text: m[3]! }));
}

/** The y of each long horizontal rule of a one-page document: pdfkit draws "x y m x2 y l" with y from the top (its page is flipped). */
function rules(pdf: Buffer): number[] {
  const ys: number[] = [];
  for (const stream of pdfContentStreams(pdf)) {
    for (const m of stream.matchAll(/([\d.]+) ([\d.]+) m\s+([\d.]+) ([\d.]+) l/g)) {
      if (m[2] === m[4] && Number(m[3]) - Number(m[1]) > 100) ys.push(Number(m[2]));
    }
  }
  return ys;
}

describe('report pages rendered to PNG', { skip }, () => {
  let app: TestApp;
  let owner: SignedIn;

  before(async () => {
    app = await startTestApp();
    owner = await app.owner('Maple Town');
  });
  after(() => app.close());

  it('draws a table row as tall as its wrapped text, so the next rule runs under it, not through it', async () => {
    const pdf = await renderPdf('Table layout', (doc) => {
      table(doc, [{ label: 'Performed', width: 110 }, { label: 'Type', width: 75 }, { label: 'Technician', width: 105 }, { label: 'Work done', width: 205 }], [
        ['2026-05-01 10:00', 'corrective', 'Maria Technician-Longname', 'Replaced the door gasket, cleaned the condenser coil, checked the refrigerant pressure and recalibrated the probe against a reference thermometer'],
        ['2026-05-02 11:00', 'inspection', 'Bo', 'Short'],
      ], { rowHeight: 14 });
    });
    const { file, pages } = renderPages('table-wrapped', pdf);
    assert.equal(pages.length, 1);
    const lines = rules(pdf);
    assert.ok(lines.length >= 3, `rules found: ${lines.join(', ')}`);
    const struck = words(file).filter((w) => lines.some((y) => y > w.yMin + 1 && y < w.yMax - 1));
    assert.deepEqual(struck.map((w) => w.text), [], 'no word is crossed by a table rule');
    assert.ok(words(file).some((w) => w.text === 'thermometer'), 'the wrapped cell is printed whole');
  });

  it('labels the site\'s address as the site\'s in the speed study of a radar that has its own position', async () => {
    const site = await owner.client.post('/api/v1/sites', { name: 'Maple Avenue', address: '200 Maple Avenue, Maple Town', lat: 45.5, lon: -73.6, timezone: 'America/Toronto' });
    const radar = await owner.client.post('/api/v1/devices', {
      kind: 'speed_radar', name: 'Maple Ave school zone', serial: 'MAPLE-1', siteId: site.body.id, speedLimit: 30, lat: 45.5021, lon: -73.6043,
    });
    const now = Date.now();
    const events = Array.from({ length: 40 }, (_, i) => ({ client_ref: `m${i}`, ts: new Date(now - (i + 1) * 3_600_000).toISOString(), kind: 'speed', speed: 24 + (i % 12) }));
    const ingest = await app.runtime.app.inject({ method: 'POST', url: '/api/v1/ingest/events', headers: { 'x-api-key': radar.body.apiKey }, payload: { events } });
    assert.equal(ingest.json().accepted, 40);
    const day = (offset: number) => new Date(now + offset * 86_400_000).toISOString().slice(0, 10);
    const created = await owner.client.post('/api/v1/reports', { kind: 'speed_study', deviceId: radar.body.device.id, from: day(-3), to: day(0) });
    assert.equal(created.status, 202, JSON.stringify(created.body));
    await app.runtime.services.reportRunner.runQueued();
    const download = await app.runtime.app.inject({ method: 'GET', url: `/api/v1/reports/${created.body.id}/files/pdf`, headers: { cookie: owner.client.cookie! } });
    assert.equal(download.statusCode, 200);
    const { pages } = renderPages('speed-study', download.rawPayload);
    assert.ok(pages.length >= 2, `${pages.length} pages`);
    const text = pdfText(download.rawPayload);
    assert.match(text, /Site address/);
    assert.match(text, /45\.502100, -73\.604300 \(WGS 84\), the radar's own position/);
    assert.match(text, /too few vehicles for a reliable 85th percentile/);
  });
});
