import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { isIP } from 'node:net';
import path from 'node:path';

/**
 * Approximate country of an address from an offline data set shipped in an npm package
 * (@ip-location-db/geo-whois-asn-country: country ranges from the regional registries' WHOIS and
 * ASN data, CC BY 4.0 by NRO; docs/decisions/0140). No lookup service is ever asked. The tables are
 * read on the first lookup (only visits with analytics consent look up) and kept in memory.
 */
const require = createRequire(import.meta.url);

interface Ranges<T> {
  starts: T[];
  ends: T[];
  countries: string[];
}

let ipv4: Promise<Ranges<number>> | undefined;
let ipv6: Promise<Ranges<bigint>> | undefined;

async function load<T>(file: string, parse: (text: string) => T): Promise<Ranges<T>> {
  const folder = path.dirname(require.resolve('@ip-location-db/geo-whois-asn-country/package.json'));
  const text = await readFile(path.join(folder, file), 'utf8');
  const ranges: Ranges<T> = { starts: [], ends: [], countries: [] };
  for (const line of text.split('\n')) {
    const [start, end, country] = line.split(',');
    if (!start || !end || !country) continue;
    ranges.starts.push(parse(start));
    ranges.ends.push(parse(end));
    ranges.countries.push(country.trim());
  }
  return ranges;
}

function find<T extends number | bigint>(ranges: Ranges<T>, value: T): string | undefined {
  let low = 0;
  let high = ranges.starts.length - 1;
  while (low <= high) {
    const middle = (low + high) >> 1;
    const start = ranges.starts[middle] as T;
    if (value < start) high = middle - 1;
    else if (value > (ranges.ends[middle] as T)) low = middle + 1;
    else return ranges.countries[middle];
  }
  return undefined;
}

function ipv4Number(address: string): number {
  return address.split('.').reduce((sum, part) => sum * 256 + Number(part), 0);
}

/** The eight 16-bit groups of an IPv6 address (expanded, an embedded IPv4 tail converted). */
export function ipv6Groups(address: string): number[] {
  let text = address.toLowerCase();
  const v4 = /(\d+\.\d+\.\d+\.\d+)$/.exec(text);
  if (v4?.[1]) {
    const n = ipv4Number(v4[1]);
    text = `${text.slice(0, -v4[1].length)}${(n >>> 16).toString(16)}:${(n & 0xffff).toString(16)}`;
  }
  const [head = '', tail] = text.split('::');
  const left = head === '' ? [] : head.split(':');
  const right = tail === undefined || tail === '' ? [] : tail.split(':');
  const missing = tail === undefined ? 0 : 8 - left.length - right.length;
  return [...left, ...Array<string>(missing).fill('0'), ...right].map((group) => parseInt(group, 16));
}

function ipv6Number(address: string): bigint {
  return ipv6Groups(address).reduce((sum, group) => (sum << 16n) + BigInt(group), 0n);
}

/** ISO 3166-1 alpha-2 country of the address, or undefined (private, unknown or not an address). */
export async function countryOf(address: string): Promise<string | undefined> {
  const family = isIP(address);
  if (family === 4) {
    ipv4 ??= load('geo-whois-asn-country-ipv4-num.csv', Number);
    return find(await ipv4, ipv4Number(address));
  }
  if (family === 6) {
    const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address);
    if (mapped?.[1]) return countryOf(mapped[1]);
    ipv6 ??= load('geo-whois-asn-country-ipv6-num.csv', BigInt);
    return find(await ipv6, ipv6Number(address));
  }
  return undefined;
}

/**
 * The network an address belongs to, which is all the visit log keeps of it: IPv4 /24, IPv6 /48
 * (an IPv4-mapped IPv6 address is treated as the IPv4 address). Undefined for anything else.
 */
export function truncateAddress(address: string): string | undefined {
  const family = isIP(address);
  if (family === 4) return `${address.split('.').slice(0, 3).join('.')}.0/24`;
  if (family === 6) {
    const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address);
    if (mapped?.[1]) return truncateAddress(mapped[1]);
    const groups = ipv6Groups(address).slice(0, 3);
    return `${groups.map((group) => group.toString(16)).join(':')}::/48`;
  }
  return undefined;
}
