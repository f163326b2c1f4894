import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, describe, it } from 'node:test';
import { loadConfig } from '../src/server/core/config.js';
import { OutboundHttp, type HostResolver } from '../src/server/core/outbound-http.js';
import { isPublicAddress } from '../src/server/core/private-networks.js';

interface Received { host: string | undefined; body: string }

/** An HTTP receiver on `address` (port 0: any free one), answering `status` (a redirect when `location` is given). */
async function receiver(address: string, port = 0, answer: { status?: number; location?: string } = {}) {
  const received: Received[] = [];
  const server = http.createServer((request, response) => {
    let body = '';
    request.on('data', (chunk: Buffer) => (body += chunk.toString('utf8')));
    request.on('end', () => {
      received.push({ host: request.headers.host, body });
      if (answer.location) response.setHeader('location', answer.location);
      response.statusCode = answer.status ?? 200;
      response.end('ok');
    });
  });
  await new Promise<void>((resolve, reject) => server.once('error', reject).listen(port, address, resolve));
  return { received, port: (server.address() as AddressInfo).port, close: () => new Promise<void>((resolve) => server.close(() => resolve())) };
}

/** A resolver that answers `answers` in turn (the last one from then on), counting the questions. */
function resolverAnswering(...answers: string[][]) {
  const asked: string[] = [];
  const resolve: HostResolver = async (host) => {
    asked.push(host);
    return answers[Math.min(asked.length, answers.length) - 1]!;
  };
  return { asked, resolve };
}

const post = (body = '{"ok":true}', timeoutMs = 5000) => ({ headers: { 'content-type': 'application/json' }, body, timeoutMs });

describe('outbound HTTP to URLs users choose (webhooks)', () => {
  const receivers: { close(): Promise<void> }[] = [];
  after(async () => {
    for (const r of receivers) await r.close();
  });

  it('counts only the public internet as public: loopback, private, link-local, CGNAT, multicast, unspecified and IPv4 inside IPv6 are not', () => {
    for (const address of ['93.184.215.14', '8.8.8.8', '2606:4700:4700::1111']) assert.equal(isPublicAddress(address), true, address);
    for (const address of [
      '127.0.0.1', '127.9.9.9', '10.1.2.3', '172.16.0.1', '172.31.255.254', '192.168.1.1', '169.254.169.254', '100.64.0.1', '0.0.0.0',
      '224.0.0.1', '239.255.255.250', '255.255.255.255', '192.0.2.10', '240.0.0.1',
      '::', '::1', 'fe80::1', 'fc00::1', 'fd12:3456::1', 'ff02::1', '::ffff:127.0.0.1', '::ffff:7f00:1', '::ffff:10.0.0.1', '64:ff9b::7f00:1', '2002:7f00:1::1',
      'not-an-address',
    ]) assert.equal(isPublicAddress(address), false, address);
  });

  it('refuses a receiver on 127.0.0.1 unless the operator allow-lists it, and says why', async () => {
    const local = await receiver('127.0.0.1');
    receivers.push(local);
    const url = `http://127.0.0.1:${local.port}/hook`;
    const closed = new OutboundHttp([]);
    assert.match((await closed.problem(url))!, /private, loopback or link-local address; only the server's operator can allow such destinations \(WEBHOOK_ALLOW_PRIVATE\)/);
    await assert.rejects(closed.post(url, post()), /WEBHOOK_ALLOW_PRIVATE/);
    assert.match((await closed.problem(`http://localhost:${local.port}/`))!, /private/, 'localhost is loopback without asking DNS');
    assert.match((await closed.problem(`http://[::ffff:127.0.0.1]:${local.port}/`))!, /private/, 'nor IPv4-mapped IPv6');
    assert.equal(local.received.length, 0);

    for (const allowed of [['127.0.0.1'], ['127.0.0.0/8'], ['::ffff:127.0.0.0/104']]) {
      assert.equal(await new OutboundHttp(allowed).post(url, post()), 200, allowed.join());
    }
    assert.equal(local.received.length, 3);
    assert.match((await new OutboundHttp(['127.0.0.1']).problem('http://10.1.2.3/hook'))!, /private/, 'the allow-list opens only what it names');
  });

  it('refuses a name if any address it resolves to is private, and a name that does not resolve', async () => {
    const names: Record<string, string[]> = {
      'intranet.example': ['10.0.0.7'],
      'mixed.example': ['93.184.215.14', '192.168.1.10'],
      'mapped.example': ['::ffff:127.0.0.1'],
      'metadata.example': ['169.254.169.254'],
      'v6.example': ['fd00::5'],
      'public.example': ['93.184.215.14', '2606:4700:4700::1111'],
    };
    const resolve: HostResolver = async (host) => {
      if (!names[host]) throw new Error('ENOTFOUND');
      return names[host];
    };
    const outbound = new OutboundHttp([], resolve);
    for (const host of ['intranet.example', 'mixed.example', 'mapped.example', 'metadata.example', 'v6.example']) {
      assert.match((await outbound.problem(`https://${host}/hook`))!, new RegExp(`private.*\\(at ${names[host]!.at(-1)!.replace(/\./g, '\\.')}\\)`), host);
    }
    assert.equal(await outbound.problem('https://public.example/hook'), null);
    assert.match((await outbound.problem('https://nowhere.example/hook'))!, /"nowhere\.example" that does not resolve/);
    assert.equal(await new OutboundHttp(['intranet.example'], resolve).problem('https://intranet.example/hook'), null, 'a host name the operator allows');
    assert.equal(await new OutboundHttp(['10.0.0.0/8'], resolve).problem('https://intranet.example/hook'), null, 'a network the operator allows');
    assert.match((await outbound.problem('ftp://public.example/x'))!, /http or https/);
    assert.match((await outbound.problem('https://user:pw@public.example/x'))!, /credentials/);
  });

  it('DNS rebinding: connects to the address it checked (Host still the name), never to the one the name answers afterwards', async () => {
    // The operator allows 127.0.0.2 only; the name answers 127.0.0.2 when checked and 127.0.0.1 afterwards.
    const checked = await receiver('127.0.0.2');
    const inner = await receiver('127.0.0.1', checked.port);
    receivers.push(checked, inner);
    const dns = resolverAnswering(['127.0.0.2'], ['127.0.0.1']);
    const outbound = new OutboundHttp(['127.0.0.2'], dns.resolve);
    const url = `http://rebind.example:${checked.port}/hook`;
    assert.equal(await outbound.post(url, post('{"n":1}')), 200);
    assert.deepEqual(checked.received, [{ host: `rebind.example:${checked.port}`, body: '{"n":1}' }]);
    assert.equal(inner.received.length, 0, 'nothing reached 127.0.0.1');
    assert.deepEqual(dns.asked, ['rebind.example'], 'the name was resolved once, for the check; the connection used that answer');
  });

  it('DNS rebinding: a name that is public when checked and 127.0.0.1 afterwards never reaches 127.0.0.1', async () => {
    const inner = await receiver('127.0.0.1');
    receivers.push(inner);
    const dns = resolverAnswering(['93.184.215.14'], ['127.0.0.1']);
    const outbound = new OutboundHttp([], dns.resolve);
    // The public address does not answer here (or answers something else); either way the call is its, not the loopback's.
    await outbound.post(`http://rebind.example:${inner.port}/hook`, post('{}', 500)).catch(() => undefined);
    assert.equal(inner.received.length, 0, 'nothing reached 127.0.0.1');
    assert.deepEqual(dns.asked, ['rebind.example']);
  });

  it('does not follow a redirect (it could point anywhere)', async () => {
    const target = await receiver('127.0.0.1');
    const redirecting = await receiver('127.0.0.1', 0, { status: 307, location: `http://127.0.0.1:${target.port}/elsewhere` });
    receivers.push(target, redirecting);
    assert.equal(await new OutboundHttp(['127.0.0.1']).post(`http://127.0.0.1:${redirecting.port}/hook`, post()), 307);
    assert.equal(target.received.length, 0);
  });

  it('WEBHOOK_ALLOW_PRIVATE takes addresses, networks and host names, and names a bad entry', () => {
    assert.deepEqual(loadConfig({}).webhookAllowPrivate, [], 'nothing private by default');
    assert.deepEqual(loadConfig({ WEBHOOK_ALLOW_PRIVATE: '10.0.0.0/8, fd00::/8 hooks.internal 192.168.1.20' }).webhookAllowPrivate, ['10.0.0.0/8', 'fd00::/8', 'hooks.internal', '192.168.1.20']);
    assert.throws(() => loadConfig({ WEBHOOK_ALLOW_PRIVATE: '10.0.0.0/33,999.1.1.1' }), (error: Error) =>
      /WEBHOOK_ALLOW_PRIVATE: "10\.0\.0\.0\/33" is neither/.test(error.message) && /"999\.1\.1\.1"/.test(error.message));
  });
});
