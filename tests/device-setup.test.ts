import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startTestApp, type SignedIn, type TestApp } from './helpers/app.js';
import { isLoopbackUrl, poloSancaExample } from '../src/shared/device-setup.js';

/** What the register wizard tells someone setting up a device: the address, and the requests that device makes. */
describe('device setup instructions', () => {
  let app: TestApp;
  let owner: SignedIn;
  before(async () => {
    app = await startTestApp();
    owner = await app.owner();
  });
  after(async () => app.close());

  it('warns that devices on another network cannot reach a loopback PUBLIC_URL', () => {
    for (const url of ['http://localhost:3000', 'http://127.0.0.1:3000', 'http://[::1]:3000', 'http://vigil.localhost']) {
      assert.equal(isLoopbackUrl(url), true, url);
    }
    assert.equal(isLoopbackUrl('https://vigil.example.com'), false);
    assert.equal(isLoopbackUrl('http://192.168.1.20:3000'), false, 'a LAN address is reachable from the LAN');
  });

  it('gives a refrigeration unit the Polo Sanca request with its serial, and that request is accepted', async () => {
    assert.match(poloSancaExample('https://vigil.example.com', 'k', 'PS-0042'), /^curl -X POST https:\/\/vigil\.example\.com\/v1\/equipments\/telemetry .*"serial":"PS-0042"/s);

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
