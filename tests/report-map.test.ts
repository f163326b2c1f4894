import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import sharp from 'sharp';
import { startTestApp, type SignedIn, type TestApp } from './helpers/app.js';
import { pdfText } from './helpers/pdf.js';
import { eventually } from './helpers/receivers.js';

/**
 * The street map on a speed study's title page: drawn from the configured tile server when it answers,
 * left out (and said so) when it does not, without holding the report up beyond the tile timeout.
 */
const LAT = 51.501234;
const LON = -0.123456;

/** A tile server on loopback: serves one generated PNG for every tile path, or (when `hang`) never answers. */
async function tileServer() {
  const tile = await sharp({ create: { width: 256, height: 256, channels: 3, background: '#8fbc8f' } }).png().toBuffer();
  const state = { hang: false, paths: [] as string[], abandoned: 0 };
  const server = http.createServer((request, response) => {
    state.paths.push(request.url ?? '');
    if (state.hang) {
      request.socket.on('close', () => (state.abandoned += 1));
      return;
    }
    response.writeHead(200, { 'content-type': 'image/png' }).end(tile);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    state,
    url: `http://127.0.0.1:${port}/tiles/{z}/{x}/{y}.png`,
    close: () => new Promise<void>((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    }),
  };
}

describe('speed study map', () => {
  let app: TestApp;
  let owner: SignedIn;
  let tiles: Awaited<ReturnType<typeof tileServer>>;
  let radar: string;

  before(async () => {
    tiles = await tileServer();
    app = await startTestApp({ mapTiles: { url: tiles.url, attribution: '© Test Tiles' }, reportMapTimeoutMs: 300 });
    owner = await app.owner();
    const created = await owner.client.post('/api/v1/devices', { kind: 'speed_radar', name: 'Radar M', serial: 'RADAR-M', speedLimit: 30, lat: LAT, lon: LON });
    assert.equal(created.status, 201, JSON.stringify(created.body));
    radar = created.body.device.id;
  });
  after(async () => {
    await app.close();
    await tiles.close();
  });

  async function studyPdf(): Promise<Buffer> {
    const created = await owner.client.post('/api/v1/reports', { kind: 'speed_study', deviceId: radar, from: '2026-10-01', to: '2026-10-07' });
    assert.equal(created.status, 202, JSON.stringify(created.body));
    await app.runtime.services.reportRunner.runQueued();
    const report = (await owner.client.get(`/api/v1/reports/${created.body.id}`)).body;
    assert.equal(report.status, 'done', report.error);
    const pdf = await app.runtime.app.inject({ method: 'GET', url: `/api/v1/reports/${report.id}/files/pdf`, headers: { cookie: owner.client.cookie! } });
    assert.equal(pdf.statusCode, 200);
    return pdf.rawPayload;
  }

  it('embeds a map of the tiles around the device, with the provider credit', async () => {
    tiles.state.hang = false;
    tiles.state.paths.length = 0;
    const pdf = await studyPdf();
    // The tile holding the device at zoom 16 (Web Mercator) was among those fetched.
    const n = 2 ** 16;
    const x = Math.floor(((LON + 180) / 360) * n);
    const rad = (LAT * Math.PI) / 180;
    const y = Math.floor(((1 - Math.log(Math.tan(rad) + 1 / Math.cos(rad)) / Math.PI) / 2) * n);
    assert.ok(tiles.state.paths.includes(`/tiles/16/${x}/${y}.png`), `fetched ${tiles.state.paths.join(' ')}`);
    assert.ok(tiles.state.paths.length <= 9, 'a few tiles, not a map server\'s worth');
    assert.match(pdf.toString('latin1'), /\/Subtype \/Image/, 'the PDF holds an image');
    const text = pdfText(pdf);
    assert.ok(text.includes('© Test Tiles'), 'the tile provider is credited');
    assert.ok(!text.includes('map unavailable'));
  });

  it('goes without the map, and says so, when the tile server does not answer in time', async () => {
    tiles.state.hang = true;
    tiles.state.paths.length = 0;
    tiles.state.abandoned = 0;
    const pdf = await studyPdf();
    assert.ok(tiles.state.paths.length > 0, 'the tiles were asked for');
    await eventually(() => tiles.state.abandoned === tiles.state.paths.length, 'Vigil to give up on every tile request');
    assert.doesNotMatch(pdf.toString('latin1'), /\/Subtype \/Image/);
    assert.ok(pdfText(pdf).includes('Location map unavailable (the map tiles could not be reached).'));
  });

  it('goes without the map when the device has no coordinates', async () => {
    const created = await owner.client.post('/api/v1/devices', { kind: 'speed_radar', name: 'Radar N', serial: 'RADAR-N', speedLimit: 30 });
    const report = await owner.client.post('/api/v1/reports', { kind: 'speed_study', deviceId: created.body.device.id, from: '2026-10-01', to: '2026-10-07' });
    await app.runtime.services.reportRunner.runQueued();
    assert.equal((await owner.client.get(`/api/v1/reports/${report.body.id}`)).body.status, 'done');
    const pdf = await app.runtime.app.inject({ method: 'GET', url: `/api/v1/reports/${report.body.id}/files/pdf`, headers: { cookie: owner.client.cookie! } });
    assert.ok(pdfText(pdf.rawPayload).includes('Location map unavailable (no coordinates recorded).'));
  });
});
