import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, describe, it } from 'node:test';
import { startTestApp, uniqueEmail, type Response, type TestApp } from './helpers/app.js';

/** The `vigil_device=…` pair a sign-in answer sets, as a browser would send it back. */
function deviceCookieOf(response: Response): { pair: string; attributes: string } {
  const cookies = [response.headers['set-cookie']].flat().map(String);
  const cookie = cookies.find((c) => c.startsWith('vigil_device='));
  assert.ok(cookie, 'a successful sign-in sets the device cookie');
  return { pair: cookie.split(';')[0]!, attributes: cookie };
}

describe('sign-in limits an attacker cannot turn against the user', () => {
  let app: TestApp;
  before(async () => {
    app = await startTestApp({
      rateLimits: { loginPerIp: 55, loginPerAccount: 20, loginFailuresPerClient: 3, registerPerIp: 3, resetPerIp: 2, windowSeconds: 600 },
    });
  });
  after(async () => app.close());

  const from = (ip: string) => {
    const client = app.client();
    client.ip = ip;
    return client;
  };
  const signIn = (ip: string, email: string, password: string, cookie?: string) =>
    from(ip).request('POST', '/api/v1/auth/login', { email, password }, cookie ? { cookie } : {});

  it('an address failing 50 times is made to wait, while the user signs in from another address', async () => {
    const owner = await app.owner();
    const guess = async (i: number) => (await signIn('10.8.0.1', owner.email, `guess number ${i}`)).status;
    const started = Date.now();
    const statuses = [await guess(0), await guess(1), await guess(2)];
    assert.deepEqual(statuses, [401, 401, 401]);
    assert.equal((await signIn('10.8.0.1', owner.email, owner.password)).status, 429, 'the address waits, even with the right password');
    for (let i = 3; i < 50; i++) statuses.push(await guess(i));
    const seconds = (Date.now() - started) / 1000;
    // Past the three free failures, one more guess is checked only after each wait (1 s, 2 s, 4 s …) has passed.
    const checked = statuses.filter((s) => s === 401).length;
    assert.ok(checked <= 3 + Math.ceil(Math.log2(seconds + 1)), `${checked} guesses checked in ${seconds} s`);
    assert.deepEqual(new Set(statuses), new Set([401, 429]));
    assert.equal((await signIn('10.8.0.2', owner.email, owner.password)).status, 200);
  });

  it("the attacker's address waits longer after each failure past the free ones", async () => {
    const owner = await app.owner();
    for (let i = 0; i < 3; i++) assert.equal((await signIn('10.8.1.1', owner.email, 'wrong password')).status, 401);
    const first = await signIn('10.8.1.1', owner.email, 'wrong password');
    assert.equal(first.status, 429);
    assert.equal(Number(first.headers['retry-after']), 1);
    await sleep(Number(first.headers['retry-after']) * 1000 + 100);
    assert.equal((await signIn('10.8.1.1', owner.email, 'wrong password')).status, 401, 'after the wait, one more try');
    const second = await signIn('10.8.1.1', owner.email, 'wrong password');
    assert.equal(second.status, 429);
    assert.equal(Number(second.headers['retry-after']), 2);
  });

  it('a browser the user signed in with before gets in while many addresses attack the account', async () => {
    const owner = await app.owner();
    const laptop = deviceCookieOf(await signIn('10.8.2.1', owner.email, owner.password));
    assert.match(laptop.attributes, /HttpOnly/);
    assert.match(laptop.attributes, /SameSite=Strict/);
    assert.match(laptop.attributes, /Path=\/api\/v1\/auth\/login/, 'sent back only to the sign-in route');
    const stranger = await app.owner();
    const strangersCookie = deviceCookieOf(await signIn('10.8.2.2', stranger.email, stranger.password));

    // Ten addresses, two guesses each: the account's ceiling (20) for browsers without its device cookie.
    for (let a = 1; a <= 10; a++) {
      for (let i = 0; i < 2; i++) assert.equal((await signIn(`10.9.${a}.1`, owner.email, `guess ${a}.${i}`)).status, 401);
    }
    const newBrowser = await signIn('10.8.2.3', owner.email, owner.password);
    assert.equal(newBrowser.status, 429, 'an unknown browser waits out the attack');
    assert.ok(Number(newBrowser.headers['retry-after']) > 0);
    assert.equal((await signIn('10.8.2.3', owner.email, owner.password, strangersCookie.pair)).status, 429, "another user's device cookie does not count");
    const [name, value] = laptop.pair.split('=');
    const forged = `${name}=${value!.slice(0, -2)}xx`;
    assert.equal((await signIn('10.8.2.3', owner.email, owner.password, forged)).status, 429, 'a forged device cookie does not count');

    const back = await signIn('10.8.2.4', owner.email, owner.password, laptop.pair);
    assert.equal(back.status, 200, 'the known browser signs in, even from a new address');
  });

  it('still limits attempts per address, whatever the account', async () => {
    const owner = await app.owner();
    // 55 attempts in all from one address (its budget), most refused at once by the wait on this account.
    for (let i = 0; i < 52; i++) await signIn('10.8.3.1', owner.email, 'wrong password');
    for (let i = 0; i < 3; i++) assert.equal((await signIn('10.8.3.1', uniqueEmail(), 'whatever it is')).status, 401);
    const spent = await signIn('10.8.3.1', uniqueEmail(), 'whatever it is');
    assert.equal(spent.status, 429);
    assert.ok(Number(spent.headers['retry-after']) > 60, 'until the window ends, not a short wait');
    assert.equal((await signIn('10.8.3.2', uniqueEmail(), 'whatever it is')).status, 401, 'other addresses are not affected');
  });
});
