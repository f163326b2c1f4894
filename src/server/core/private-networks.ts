import ipaddr from 'ipaddr.js';

/**
 * Which addresses user-chosen URLs (webhooks) may reach: the public internet, plus the private
 * destinations the operator lists in WEBHOOK_ALLOW_PRIVATE. Nothing an organization sets widens it,
 * so a tenant cannot make the server call into the network it runs in.
 */

/**
 * An address on the public internet. Everything else is not: loopback, private, link-local, CGNAT,
 * multicast, broadcast, unspecified, reserved and documentation ranges, and the IPv6 forms that wrap an
 * IPv4 address (NAT64, 6to4, Teredo). An IPv4-mapped IPv6 address is judged as the IPv4 address it carries.
 */
export function isPublicAddress(address: string): boolean {
  if (!ipaddr.isValid(address)) return false;
  return ipaddr.process(address).range() === 'unicast';
}

const HOST_NAME = /^(?=.{1,253}$)([a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)(\.[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)*$/;

type Network = [ipaddr.IPv4 | ipaddr.IPv6, number];

function parseNetwork(entry: string): Network | null {
  if (ipaddr.isValidCIDR(entry)) {
    const [address, prefix] = ipaddr.parseCIDR(entry);
    return address.kind() === 'ipv6' && (address as ipaddr.IPv6).isIPv4MappedAddress() ? [(address as ipaddr.IPv6).toIPv4Address(), Math.max(prefix - 96, 0)] : [address, prefix];
  }
  if (ipaddr.isValid(entry)) {
    const address = ipaddr.process(entry);
    return [address, address.kind() === 'ipv4' ? 32 : 128];
  }
  return null;
}

/** Why an entry of WEBHOOK_ALLOW_PRIVATE is not usable, or null: an address, a CIDR network or a host name. */
export function allowListEntryProblem(entry: string): string | null {
  if (parseNetwork(entry) || (HOST_NAME.test(entry.toLowerCase()) && !/^[\d.]+$/.test(entry))) return null;
  return `"${entry}" is neither an IP address, a CIDR network (10.0.0.0/8, fd00::/8) nor a host name`;
}

/** The operator's private destinations: networks (any name that resolves into them) and host names (whatever they resolve to). */
export class PrivateAllowList {
  private readonly networks: Network[] = [];
  private readonly hosts = new Set<string>();

  constructor(entries: readonly string[]) {
    for (const entry of entries) {
      const network = parseNetwork(entry);
      if (network) this.networks.push(network);
      else this.hosts.add(entry.toLowerCase().replace(/\.$/, ''));
    }
  }

  get empty(): boolean {
    return this.networks.length === 0 && this.hosts.size === 0;
  }

  /** Whether `host` may be reached at the non-public `address`. */
  allows(host: string, address: string): boolean {
    if (this.hosts.has(host.toLowerCase().replace(/\.$/, ''))) return true;
    if (!ipaddr.isValid(address)) return false;
    const parsed = ipaddr.process(address);
    return this.networks.some(([network, prefix]) => network.kind() === parsed.kind() && parsed.match(network, prefix));
  }
}
