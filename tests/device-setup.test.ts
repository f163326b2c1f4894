import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import React, { createElement } from 'react';
import { renderToStaticMarkup } from 'react-dom/server';
import { startTestApp, type SignedIn, type TestApp } from './helpers/app.js';

// The server's TypeScript settings compile JSX to React.createElement (the console's own build does not need this).
(globalThis as { React?: typeof React }).React = React;
const { isLoopbackUrl, poloSancaExample, Snippets } = await import('../src/web/components/DeviceSetup.js');

/** What the register wizard tells someone setting up a device: the address, and the requests that device makes. */
describe('device setup instructions', () => {
  let app: TestApp;
  let owner: SignedIn;
  before(async () => {
    app = await startTestApp();
    owner = await app.owner();
  });
  after(async () => app.close());

  const render = (publicUrl: string, kind: 'refrigeration' | 'speed_radar', serial: string | null = null) =>
    renderToStaticMarkup(createElement(Snippets, { publicUrl, apiKey: 'the-device-key', kind, serial }));

  it('warns that devices on another network cannot reach a loopback PUBLIC_URL', () => {
    for (const url of ['http://localhost:3000', 'http://127.0.0.1:3000', 'http://[::1]:3000', 'http://vigil.localhost']) {
      assert.equal(isLoopbackUrl(url), true, url);
    }
    assert.equal(isLoopbackUrl('https://vigil.example.com'), false);
    assert.equal(isLoopbackUrl('http://192.168.1.20:3000'), false, 'a LAN address is reachable from the LAN');
    assert.match(render('http://localhost:3000', 'speed_radar'), /Devices cannot reach http:\/\/localhost:3000/);
    assert.doesNotMatch(render('https://vigil.example.com', 'speed_radar'), /cannot reach/);
  });

  it('shows a refrigeration unit the Polo Sanca endpoint with its serial, and that request is accepted', async () => {
    const html = render('https://vigil.example.com', 'refrigeration', 'PS-0042');
    assert.match(html, /Polo Sanca unit/);
    assert.match(html, /https:\/\/vigil\.example\.com\/v1\/equipments\/telemetry/);
    assert.match(html, /PS-0042/);
    assert.match(html, /Native API/, 'the native call is still offered');

    const created = await owner.client.post('/api/v1/devices', { kind: 'refrigeration', name: 'Walk-in', serial: 'PS-0042' });
    assert.equal(created.status, 201, JSON.stringify(created.body));
    const command = poloSancaExample('http://vigil.test', created.body.apiKey, 'PS-0042');
    const body = /-d '(.*)'$/.exec(command)![1]!;
    const answer = await app.runtime.app.inject({
      method: 'POST', url: '/v1/equipments/telemetry', payload: body,
      headers: { 'x-api-key': /X-API-Key: (\S+)'/.exec(command)![1]!, 'content-type': 'application/json' },
    });
    assert.equal(answer.statusCode, 200, answer.body);
  });
});
