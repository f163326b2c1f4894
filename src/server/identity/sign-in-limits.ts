import type { AppContext } from '../core/context.js';
import { FailureBackoff, RateLimit, redisOf } from '../core/rate-limit.js';
import { hmac, newToken, safeEqual } from '../core/tokens.js';

export const DEVICE_COOKIE = 'vigil_device';
export const DEVICE_COOKIE_DAYS = 365;

/** Who is trying to sign in, as far as throttling is concerned. */
export interface SignInClient {
  account: string;
  /** The failures of this client count under this key: its device cookie, else the account and its IP. */
  key: string;
  /** Holds a device cookie this account was signed in with: not held back by attacks from elsewhere. */
  knownDevice: boolean;
}

/**
 * Sign-in throttling that an attacker cannot turn against the account's owner (OWASP's "device cookies"):
 * - every attempt counts against the client IP (RATE_LIMIT_LOGIN_PER_IP);
 * - failures count per client: the browser's device cookie for this account, else the account and the IP.
 *   After RATE_LIMIT_LOGIN_FAILURES_PER_CLIENT of them each next attempt waits twice as long, so one address
 *   guessing meets growing delays and nobody else notices;
 * - failures of clients without a device cookie also count against the account; past RATE_LIMIT_LOGIN_PER_ACCOUNT
 *   in a window (an attack from many addresses) only browsers the user signed in with before may try.
 * The device cookie is set on every successful sign-in: the user id and a random id, signed with the secret key.
 */
export class SignInLimits {
  private readonly perIp: RateLimit;
  private readonly perClient: FailureBackoff;
  private readonly perAccount: RateLimit;

  constructor(private readonly ctx: AppContext) {
    const { rateLimits: rl } = ctx.config;
    const redis = redisOf(ctx);
    this.perIp = new RateLimit('login-ip', rl.loginPerIp, rl.windowSeconds, redis);
    this.perClient = new FailureBackoff('login-client', rl.loginFailuresPerClient, rl.windowSeconds, redis);
    this.perAccount = new RateLimit('login-account', rl.loginPerAccount, rl.windowSeconds, redis);
  }

  /** Counts the attempt against its IP; throws 429 past the IP's budget. */
  async countAttempt(ip: string): Promise<void> {
    await this.perIp.consume(ip);
  }

  clientOf(account: string, ip: string, userId: string | undefined, deviceCookie: string | undefined): SignInClient {
    const deviceId = userId && deviceCookie ? this.deviceIdOf(deviceCookie, userId) : undefined;
    return deviceId ? { account, key: `device:${deviceId}`, knownDevice: true } : { account, key: `${account}|${ip}`, knownDevice: false };
  }

  /** Throws 429 while this client must wait, or while the account is closed to unknown browsers. */
  async check(client: SignInClient): Promise<void> {
    await this.perClient.check(client.key);
    if (!client.knownDevice) await this.perAccount.check(client.account);
  }

  async failed(client: SignInClient): Promise<void> {
    await this.perClient.fail(client.key);
    if (!client.knownDevice) await this.perAccount.consume(client.account).catch(() => undefined);
  }

  /** A correct password: this client's failures are forgotten; the account-wide count is left to its window. */
  async succeeded(client: SignInClient): Promise<void> {
    await this.perClient.reset(client.key);
  }

  /** After a password reset the owner is back in control: the account-wide count starts again. */
  async forgetAccount(account: string): Promise<void> {
    await this.perAccount.reset(account);
  }

  /** A new device cookie for a browser that just signed in as this user. */
  deviceCookieFor(userId: string): string {
    const deviceId = newToken().slice(0, 22);
    return `${userId}.${deviceId}.${this.signature(userId, deviceId)}`;
  }

  private deviceIdOf(cookie: string, userId: string): string | undefined {
    const [cookieUserId, deviceId, signature, ...rest] = cookie.split('.');
    if (rest.length > 0 || cookieUserId !== userId || !deviceId || !signature) return undefined;
    return safeEqual(signature, this.signature(userId, deviceId)) ? deviceId : undefined;
  }

  private signature(userId: string, deviceId: string): string {
    return hmac(this.ctx.secrets.secretKey, `device-cookie:${userId}.${deviceId}`);
  }
}
