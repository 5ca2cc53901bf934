import { lookup } from 'node:dns/promises';
import https from 'node:https';
import { BlockList, isIP } from 'node:net';
import { Transform, type Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { rootCertificates } from 'node:tls';
import { PORTABILITY_FORMAT } from '../../kernel/access-report/index.js';
import { AppError } from '../../platform/errors.js';

/**
 * Art. 20(2): the portability package pushed to an HTTPS endpoint the person names. The URL is
 * typed by an outsider, so it is treated as a server-side request forgery vector: https only, no
 * credentials, and no address that is loopback, private, link-local, multicast or reserved.
 */
export interface TransferSettings {
  /**
   * Tests only: host names (as written in the URL) that may resolve to loopback, for an HTTPS
   * endpoint the test starts on 127.0.0.1. No setting fills it, so a deployment cannot (0878).
   */
  loopbackHostsForTests?: readonly string[];
  /** Tests only: the name resolution, to show a second answer (rebinding) is checked too. */
  resolveForTests?: (host: string) => Promise<Array<{ address: string; family: number }>>;
  /** Extra trusted CA certificate(s) in PEM, added to Node's public roots. */
  ca?: string | undefined;
  /** Whole-transfer deadline. */
  timeoutMs?: number | undefined;
}

export interface TransferTarget {
  url: URL;
  /** The address checked at validation time; the connection goes to this address, not a new lookup. */
  address: string;
  family: 4 | 6;
  /** SNI and certificate name; undefined when the URL names an IP address. */
  servername: string | undefined;
}

export interface TransferResult {
  ok: boolean;
  httpStatus: number | null;
  bytesSent: number;
  /**
   * A short code, never a message that could carry the URL. `destination_refused`: at send time
   * the host resolved to an address that is not public (decision 0878).
   */
  error?: 'timeout' | 'connection_failed' | 'rejected_by_endpoint' | 'export_failed' | 'destination_refused';
}

const DEFAULT_TIMEOUT_MS = 120_000;

const NON_PUBLIC = new BlockList();
for (const [network, prefix] of [
  ['0.0.0.0', 8],
  ['10.0.0.0', 8],
  ['100.64.0.0', 10],
  ['127.0.0.0', 8],
  ['169.254.0.0', 16],
  ['172.16.0.0', 12],
  ['192.0.0.0', 24],
  ['192.0.2.0', 24],
  ['192.88.99.0', 24],
  ['192.168.0.0', 16],
  ['198.18.0.0', 15],
  ['198.51.100.0', 24],
  ['203.0.113.0', 24],
  ['224.0.0.0', 4],
  ['240.0.0.0', 4],
] as const)
  NON_PUBLIC.addSubnet(network, prefix, 'ipv4');
// IPv6: only global unicast (2000::/3) is public, less the special ranges inside it. Outside it
// lie loopback, IPv4-compatible (::a.b.c.d), NAT64, discard, unique-local (fc00::/7), link-local
// (fe80::/10), site-local and multicast: all refused (decision 0878).
const GLOBAL_UNICAST = new BlockList();
GLOBAL_UNICAST.addSubnet('2000::', 3, 'ipv6');
for (const [network, prefix] of [
  ['2001::', 23],
  ['2001:db8::', 32],
  ['2002::', 16],
  ['3fff::', 20],
] as const)
  NON_PUBLIC.addSubnet(network, prefix, 'ipv6');

const LOOPBACK = new BlockList();
LOOPBACK.addSubnet('127.0.0.0', 8, 'ipv4');
LOOPBACK.addAddress('::1', 'ipv6');

/** True for any address a request from Kluis must not reach (internal networks, metadata services). */
export function isNonPublicAddress(address: string): boolean {
  const family = isIP(address);
  if (family === 4) return NON_PUBLIC.check(address, 'ipv4');
  if (family !== 6) return true;
  // IPv4-mapped (::ffff:a.b.c.d or ::ffff:xxxx:xxxx) reaches the IPv4 address: judge that one.
  const mapped = /^::ffff:(?:0:)?(.+)$/i.exec(address)?.[1];
  if (mapped !== undefined) {
    if (isIP(mapped) === 4) return NON_PUBLIC.check(mapped, 'ipv4');
    const hex = /^([0-9a-f]{1,4}):([0-9a-f]{1,4})$/i.exec(mapped);
    if (hex?.[1] && hex[2]) {
      const high = parseInt(hex[1], 16);
      const low = parseInt(hex[2], 16);
      return NON_PUBLIC.check(`${high >> 8}.${high & 255}.${low >> 8}.${low & 255}`, 'ipv4');
    }
    return true;
  }
  return !GLOBAL_UNICAST.check(address, 'ipv6') || NON_PUBLIC.check(address, 'ipv6');
}

const isLoopback = (address: string): boolean =>
  LOOPBACK.check(address, isIP(address) === 6 ? 'ipv6' : 'ipv4');

function refuse(message: string): AppError {
  return new AppError('validation_failed', message, { publicMessage: message });
}

/** The refusal of a destination that is not public: its own reason, so send time can tell it apart. */
export const NON_PUBLIC_DESTINATION =
  'transferTo: the host resolves to a loopback, private, link-local, multicast or reserved address';

/**
 * Parses and checks a transfer URL, resolving the host once; refuses if any resolved address is
 * non-public (loopback only for a test's own host). Messages never repeat the URL.
 */
export async function checkTransferUrl(raw: string, settings: TransferSettings): Promise<TransferTarget> {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw refuse('transferTo: expected an absolute https:// URL');
  }
  if (url.protocol !== 'https:') throw refuse('transferTo: only https:// URLs are accepted');
  if (url.username !== '' || url.password !== '')
    throw refuse('transferTo: the URL must not carry a user name or password');
  const host = url.hostname.replace(/^\[(.*)\]$/, '$1').toLowerCase();
  const literal = isIP(host);
  let addresses: Array<{ address: string; family: number }>;
  if (literal !== 0) addresses = [{ address: host, family: literal }];
  else {
    try {
      addresses = settings.resolveForTests
        ? await settings.resolveForTests(host)
        : await lookup(host, { all: true, verbatim: true });
    } catch {
      throw refuse('transferTo: the host name does not resolve');
    }
  }
  const first = addresses[0];
  if (!first) throw refuse('transferTo: the host name does not resolve');
  const isTestHost = (settings.loopbackHostsForTests ?? []).some((entry) => entry.toLowerCase() === host);
  const isRefused = (address: string) => isNonPublicAddress(address) && !(isTestHost && isLoopback(address));
  if (addresses.some((entry) => isRefused(entry.address))) throw refuse(NON_PUBLIC_DESTINATION);
  return {
    url,
    address: first.address,
    family: first.family === 6 ? 6 : 4,
    servername: literal === 0 ? host : undefined,
  };
}

export interface PushOptions {
  /** Who sends, e.g. "VoiceKing BV (BE0653.989.638)"; in a header so the receiver knows the source. */
  controller: string;
  /** Writes the ZIP into the stream and ends it. */
  writeZip: (output: Writable) => Promise<void>;
}

/** Header values are Latin-1 on the wire; percent-encode anything outside printable ASCII. */
const headerValue = (value: string): string =>
  value.replace(/[^\x20-\x7e]/g, (char) => encodeURIComponent(char));

/**
 * POSTs the ZIP to the checked address with the original Host and SNI (so a second DNS answer
 * cannot redirect it), chunked, no redirects followed, within the deadline. Never throws for
 * the endpoint's behaviour: the result says what happened, without the URL.
 */
export async function pushPortabilityZip(
  target: TransferTarget,
  settings: TransferSettings,
  options: PushOptions,
): Promise<TransferResult> {
  let bytesSent = 0;
  const signal = AbortSignal.timeout(settings.timeoutMs ?? DEFAULT_TIMEOUT_MS);
  const request = https.request({
    host: target.address,
    family: target.family,
    port: target.url.port === '' ? 443 : Number(target.url.port),
    path: `${target.url.pathname}${target.url.search}`,
    method: 'POST',
    ...(target.servername ? { servername: target.servername } : {}),
    ...(settings.ca ? { ca: [...rootCertificates, settings.ca] } : {}),
    agent: false,
    signal,
    headers: {
      host: target.url.host,
      'content-type': 'application/zip',
      'transfer-encoding': 'chunked',
      'user-agent': 'Kluis portability transfer',
      'x-kluis-controller': headerValue(options.controller),
      'x-kluis-format': PORTABILITY_FORMAT,
    },
  });
  // The certificate is checked against the host name from the URL (servername), or the IP literal.
  const response = new Promise<number>((resolve, reject) => {
    request.on('response', (incoming) => {
      incoming.resume();
      incoming.on('error', () => undefined);
      resolve(incoming.statusCode ?? 0);
    });
    request.on('error', reject);
  });
  response.catch(() => undefined);
  const counter = new Transform({
    transform(chunk: Buffer, _encoding, callback) {
      bytesSent += chunk.length;
      callback(null, chunk);
    },
  });
  const sent = pipeline(counter, request);
  sent.catch(() => undefined);
  let exportFailed = false;
  try {
    await options.writeZip(counter);
  } catch {
    exportFailed = true;
    request.destroy();
  }
  try {
    await sent;
    const status = await response;
    const ok = !exportFailed && status >= 200 && status < 300;
    return {
      ok,
      httpStatus: status,
      bytesSent,
      ...(exportFailed
        ? { error: 'export_failed' as const }
        : ok
          ? {}
          : { error: 'rejected_by_endpoint' as const }),
    };
  } catch {
    const status = await response.catch(() => null);
    return {
      ok: false,
      httpStatus: status,
      bytesSent,
      error: exportFailed ? 'export_failed' : signal.aborted ? 'timeout' : 'connection_failed',
    };
  }
}
