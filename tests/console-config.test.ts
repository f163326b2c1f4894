import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { ConfigError, loadConfig } from '../src/server/core/config.js';
import { tileImageSource } from '../src/server/core/http/security-headers.js';
import { startTestApp, type TestApp } from './helpers/app.js';

describe('console configuration', () => {
  let app: TestApp;
  before(async () => {
    app = await startTestApp({
      publicUrl: 'https://vigil.example.com',
      mapTiles: { url: 'http://tiles.field.lan:8080/{z}/{x}/{y}.png', attribution: 'Field tiles' },
    });
  });
  after(() => app?.close());

  it('gives a signed-in user the public URL and the map tiles, and nobody else', async () => {
    const { client } = await app.owner('Tiles Org');
    const answer = await client.get('/api/v1/console/config');
    assert.equal(answer.status, 200, JSON.stringify(answer.body));
    assert.deepEqual(answer.body, {
      publicUrl: 'https://vigil.example.com',
      mapTiles: { url: 'http://tiles.field.lan:8080/{z}/{x}/{y}.png', attribution: 'Field tiles' },
    });
    assert.equal((await app.client().get('/api/v1/console/config')).status, 401);
  });

  it('lets pages load images from the tile server (and only adds its origin to the policy)', async () => {
    const page = await app.client().get('/login');
    const policy = String(page.headers['content-security-policy']);
    const imgSrc = policy.split(';').find((d) => d.trim().startsWith('img-src'));
    assert.ok(imgSrc?.includes('http://tiles.field.lan:8080'), policy);
    assert.equal(tileImageSource('https://{s}.tile.example.org/{z}/{x}/{y}.png'), 'https://*.tile.example.org');
    assert.equal(tileImageSource("https://evil.example;script-src 'unsafe-inline'/{z}/{x}/{y}"), "'self'");
  });

  it('defaults to OpenStreetMap and rejects a template without its placeholders', () => {
    const defaults = loadConfig({});
    assert.equal(defaults.mapTiles.url, 'https://tile.openstreetmap.org/{z}/{x}/{y}.png');
    assert.match(defaults.mapTiles.attribution, /OpenStreetMap/);
    assert.throws(() => loadConfig({ MAP_TILE_URL: 'https://tiles.example.org/tile.png' }), (error: unknown) =>
      error instanceof ConfigError && error.problems.some((p) => p.includes('MAP_TILE_URL must contain {z}, {x} and {y}')));
  });
});
