import { lookup } from 'node:dns/promises';
import { isIP, type LookupFunction } from 'node:net';
import { Agent, request } from 'undici';
import { isPublicAddress, PrivateAllowList } from './private-networks.js';

/** All addresses of a host name. The system resolver by default; tests inject one that changes its answers. */
export type HostResolver = (host: string) => Promise<string[]>;

const systemResolver: HostResolver = async (host) => (await lookup(host, { all: true, verbatim: true })).map((a) => a.address);

type Checked = { problem: string } | { url: URL; addresses: string[] };

export interface OutboundPost {
  headers: Record<string, string>;
  body: string;
  timeoutMs: number;
}

/**
 * HTTP calls to URLs that users choose (alert and report webhooks). The host is resolved once, every
 * address it has is checked (public, or allowed by the operator's WEBHOOK_ALLOW_PRIVATE), and the
 * connection goes to those checked addresses: a name that answers differently a moment later (DNS
 * rebinding) cannot move the call into the server's own network. The Host header and the TLS server
 * name stay the URL's host; redirects are not followed.
 */
export class OutboundHttp {
  private readonly allowList: PrivateAllowList;

  constructor(allowPrivate: readonly string[], private readonly resolve: HostResolver = systemResolver) {
    this.allowList = new PrivateAllowList(allowPrivate);
  }

  /** Why `raw` may not be called, or null when it may (checked when a URL is saved, and again on every call). */
  async problem(raw: string): Promise<string | null> {
    const checked = await this.check(raw);
    return 'problem' in checked ? checked.problem : null;
  }

  /** POSTs to the checked addresses; resolves to the receiver's status code (any, 3xx included). */
  async post(raw: string, post: OutboundPost): Promise<number> {
    const checked = await this.check(raw);
    if ('problem' in checked) throw new Error(`the URL ${checked.problem}`);
    const agent = new Agent({ connect: { lookup: pinnedLookup(checked.addresses) } });
    try {
      const response = await request(checked.url, {
        method: 'POST',
        headers: post.headers,
        body: post.body,
        dispatcher: agent,
        maxRedirections: 0,
        signal: AbortSignal.timeout(post.timeoutMs),
      });
      await response.body.dump();
      return response.statusCode;
    } finally {
      await agent.destroy();
    }
  }

  private async check(raw: string): Promise<Checked> {
    let url: URL;
    try {
      url = new URL(raw);
    } catch {
      return { problem: 'is not a URL' };
    }
    if (url.protocol !== 'https:' && url.protocol !== 'http:') return { problem: 'must be an http or https URL' };
    if (url.username || url.password) return { problem: 'must not carry credentials; the signature authenticates Vigil' };
    const host = url.hostname.replace(/^\[|\]$/g, '');
    let addresses: string[];
    if (isIP(host)) addresses = [host];
    else if (host === 'localhost' || host.endsWith('.localhost')) addresses = ['127.0.0.1'];
    else {
      addresses = await this.resolve(host).catch(() => []);
      if (addresses.length === 0) return { problem: `has a host "${host}" that does not resolve` };
    }
    const refused = addresses.find((address) => !isPublicAddress(address) && !this.allowList.allows(host, address));
    if (refused !== undefined) {
      const at = refused === host ? '' : ` (at ${refused})`;
      return { problem: `points at a private, loopback or link-local address${at}; only the server's operator can allow such destinations (WEBHOOK_ALLOW_PRIVATE)` };
    }
    return { url, addresses };
  }
}

/** A lookup that answers only the addresses already checked, so the connection cannot resolve the name again. */
function pinnedLookup(addresses: string[]): LookupFunction {
  const entries = addresses.map((address) => ({ address, family: isIP(address) }));
  return (_hostname, options, callback) => {
    if (options.all) callback(null, entries);
    else callback(null, entries[0]!.address, entries[0]!.family);
  };
}
