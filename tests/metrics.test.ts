import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { loadConfig } from '../src/server/core/config.js';
import { startTestApp, type TestApp } from './helpers/app.js';

/** /metrics is the operator's: off unless METRICS_TOKEN (sent as a Bearer token) or METRICS_PUBLIC=true is set. */
describe('Prometheus metrics', () => {
  const TOKEN = 'scraper-token-0123456789abcdef';
  let app: TestApp;
  before(async () => {
    app = await startTestApp();
  });
  after(async () => app.close());

  /** The handler reads the settings per request: one app stands in for three deployments. */
  const deployed = (settings: { metricsToken?: string; metricsPublic: boolean }) => Object.assign(app.runtime.ctx.config, settings);
  const scrape = (authorization?: string) => app.runtime.app.inject({ method: 'GET', url: '/metrics', headers: authorization ? { authorization } : {} });

  it('answers 404 by default, to anyone', async () => {
    deployed({ metricsToken: undefined, metricsPublic: false });
    const response = await scrape();
    assert.equal(response.statusCode, 404);
    assert.doesNotMatch(response.body, /vigil_http_request_duration_seconds/);
    assert.equal((await scrape(`Bearer ${TOKEN}`)).statusCode, 404, 'no token opens it when none is configured');
  });

  it('with METRICS_TOKEN, serves the scraper that sends it and refuses anyone else with 401', async () => {
    deployed({ metricsToken: TOKEN, metricsPublic: false });
    const scraped = await scrape(`Bearer ${TOKEN}`);
    assert.equal(scraped.statusCode, 200);
    assert.match(String(scraped.headers['content-type']), /^text\/plain/);
    assert.match(scraped.body, /vigil_http_request_duration_seconds/);
    for (const authorization of [undefined, 'Bearer wrong-token-0123456789abcd', `Basic ${Buffer.from(`x:${TOKEN}`).toString('base64')}`, `Bearer ${TOKEN}x`]) {
      const refused = await scrape(authorization);
      assert.equal(refused.statusCode, 401, authorization);
      assert.equal(refused.headers['www-authenticate'], 'Bearer realm="metrics"');
      assert.doesNotMatch(refused.body, /vigil_/);
    }
  });

  it('with METRICS_PUBLIC=true, serves anyone (a scraper on a private network)', async () => {
    deployed({ metricsToken: undefined, metricsPublic: true });
    const response = await scrape();
    assert.equal(response.statusCode, 200);
    assert.match(response.body, /vigil_http_request_duration_seconds/);
  });

  it('refuses a short token, or both settings at once, at start', () => {
    assert.throws(() => loadConfig({ METRICS_TOKEN: 'short' }), /METRICS_TOKEN must be at least 16 characters/);
    assert.throws(() => loadConfig({ METRICS_TOKEN: TOKEN, METRICS_PUBLIC: 'true' }), /either METRICS_TOKEN .* or METRICS_PUBLIC=true, not both/);
    assert.equal(loadConfig({ METRICS_TOKEN: TOKEN }).metricsToken, TOKEN);
  });
});
