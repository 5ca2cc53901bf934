import { crc32, deflateSync } from 'node:zlib';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, runAsOwner, type TestDatabase } from '../../../test/database.js';
import { createTestApp, loginAs } from '../../../test/http.js';
import { createPolicyTenant, createTestKernel } from '../../../test/kernel.js';
import type { Kernel } from '../../kernel/kernel.js';
import type { Tenant } from '../tenants/index.js';
import { inspectLogo } from './logo.js';
import { makeTestPng } from './portal.test-helpers.js';

let database: TestDatabase;
let kernel: Kernel;
let app: FastifyInstance;
let voiceking: Tenant;
let voxtra: Tenant;

beforeAll(async () => {
  database = await createTestDatabase();
  kernel = createTestKernel(database);
  app = await createTestApp(kernel);
  voiceking = await createPolicyTenant(kernel, 'voiceking');
  voxtra = await createPolicyTenant(kernel, 'voxtra');
});
afterAll(async () => {
  await app?.close();
  await database?.close();
});

/** A minimal baseline JPEG header: SOI, an APP0 segment, then a start-of-frame naming 300×100. */
function jpegHead(width: number, height: number): Buffer {
  const app0 = [0xff, 0xe0, 0x00, 0x10, ...Buffer.from('JFIF\0', 'latin1'), 1, 1, 0, 0, 1, 0, 1, 0, 0];
  const sof0 = [0xff, 0xc0, 0x00, 0x11, 8, height >> 8, height & 0xff, width >> 8, width & 0xff, 3];
  const components = [1, 0x22, 0, 2, 0x11, 1, 3, 0x11, 1];
  return Buffer.from([0xff, 0xd8, ...app0, ...sof0, ...components, 0xff, 0xd9]);
}

const SVG = Buffer.from(
  '<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"><script>alert(1)</script></svg>',
);

describe('the privacy portal’s logo (issue 19, decision 0291)', () => {
  it('an admin uploads a PNG or JPEG (type read from the bytes), every portal page shows it, it is served as an image only; SVG, other types, damaged, oversized and other roles change nothing', async () => {
    const admin = await loginAs(app, kernel, voiceking, 'admin');
    const sales = await loginAs(app, kernel, voiceking, 'sales');
    const call = (session: typeof admin, method: 'GET' | 'PUT' | 'DELETE', bytes?: Buffer | string) =>
      app.inject({
        method,
        url: '/api/v1/portal/logo',
        headers: { cookie: session.cookie, 'x-csrf-token': session.csrfToken },
        ...(bytes === undefined
          ? {}
          : { payload: { contentBase64: typeof bytes === 'string' ? bytes : bytes.toString('base64') } }),
      });
    expect((await call(admin, 'GET')).statusCode).toBe(404);
    const png = makeTestPng(120, 40);
    const saved = await call(admin, 'PUT', png);
    expect(saved.statusCode, saved.body).toBe(200);
    const facts = saved.json<{ url: string; sha256: string }>();
    expect(facts).toMatchObject({ contentType: 'image/png', width: 120, height: 40, bytes: png.length });
    expect(facts.url).toBe(`/t/${voiceking.slug}/logo?v=${facts.sha256.slice(0, 12)}`);

    // Every page of the portal draws it in its header, before the provider's name.
    for (const path of ['/rights', '/account', '/privacy', '/cookies']) {
      const page = await app.inject({ method: 'GET', url: `/t/${voiceking.slug}${path}` });
      expect(page.statusCode, path).toBe(200);
      expect(page.body, path).toMatch(
        new RegExp(
          `<img\\s+class="logo"\\s+src="/t/${voiceking.slug}/logo\\?v=${facts.sha256.slice(0, 12)}"\\s+alt=""\\s+width="120"\\s+height="40"`,
        ),
      );
    }
    const image = await app.inject({ method: 'GET', url: facts.url });
    expect(image.statusCode).toBe(200);
    expect(image.headers['content-type']).toBe('image/png');
    expect(image.headers['x-content-type-options']).toBe('nosniff');
    expect(image.headers['content-security-policy']).toBe("default-src 'none'; sandbox");
    expect(image.rawPayload.equals(png)).toBe(true);
    const cached = await app.inject({
      method: 'GET',
      url: facts.url,
      headers: { 'if-none-match': String(image.headers.etag) },
    });
    expect(cached.statusCode).toBe(304);
    // Another tenant's portal has no logo.
    expect((await app.inject({ method: 'GET', url: `/t/${voxtra.slug}/logo` })).statusCode).toBe(404);

    // Refused: SVG (it can carry script), a GIF, bytes that are no image, a damaged PNG, a file over
    // 200 kB, text that is not Base64. Each is a 400 naming the reason, and the PNG stays.
    const gif = Buffer.from('GIF89a\x01\x00\x01\x00\x00\x00\x00;', 'latin1');
    const huge = Buffer.concat([png, Buffer.alloc(205 * 1024)]);
    const refusals: Array<[Buffer | string, RegExp]> = [
      [SVG, /SVG logos are refused/],
      [gif, /must be a PNG or JPEG/],
      [Buffer.from('hello'), /must be a PNG or JPEG/],
      [png.subarray(0, 12), /damaged/],
      [huge, /at most 200 kB/],
      ['not base64!', /not Base64/],
    ];
    for (const [bytes, reason] of refusals) {
      const refused = await call(admin, 'PUT', bytes);
      expect(refused.statusCode, `${String(reason)} ${refused.body}`).toBe(400);
      expect(refused.json<{ detail: string }>().detail, refused.body).toMatch(reason);
      expect(refused.json()).toMatchObject({ code: 'validation_failed' });
      expect(refused.json<{ detail: string }>().detail).toMatch(reason);
    }
    expect((await call(admin, 'GET')).json()).toMatchObject({
      contentType: 'image/png',
      sha256: facts.sha256,
    });

    // A JPEG is recognised by its bytes too.
    const jpeg = await call(admin, 'PUT', jpegHead(300, 100));
    expect(jpeg.statusCode, jpeg.body).toBe(200);
    expect(jpeg.json()).toMatchObject({ contentType: 'image/jpeg', width: 300, height: 100 });
    const served = await app.inject({ method: 'GET', url: `/t/${voiceking.slug}/logo` });
    expect(served.headers['content-type']).toBe('image/jpeg');

    // Admins only, like the colours.
    expect((await call(sales, 'PUT', png)).statusCode).toBe(403);
    expect((await call(sales, 'GET')).statusCode).toBe(403);
    expect((await call(sales, 'DELETE')).statusCode).toBe(403);
    expect((await app.inject({ method: 'GET', url: '/api/v1/portal/logo' })).statusCode).toBe(401);

    // Removed: the pages show the name alone.
    expect((await call(admin, 'DELETE')).statusCode).toBe(204);
    expect((await app.inject({ method: 'GET', url: `/t/${voiceking.slug}/logo` })).statusCode).toBe(404);
    const plain = await app.inject({ method: 'GET', url: `/t/${voiceking.slug}/rights` });
    expect(plain.body).not.toContain('class="logo"');
    const rows = await runAsOwner(database.ownerUrl, 'select 1 from portal_logos');
    expect(rows.rowCount).toBe(0);
  });

  it('reads a PNG’s and a JPEG’s size from their headers and refuses one claiming more than 4096 px', () => {
    expect(inspectLogo(makeTestPng(3, 2))).toMatchObject({ contentType: 'image/png', width: 3, height: 2 });
    expect(inspectLogo(jpegHead(640, 480))).toMatchObject({
      contentType: 'image/jpeg',
      width: 640,
      height: 480,
    });
    const claimsHuge = makeTestPng(2, 2);
    claimsHuge.writeUInt32BE(50_000, 16);
    expect(() => inspectLogo(claimsHuge)).toThrow(/at most 4096/);
  });

  it('A20: a PNG cut after its header, cut in its image data, with a broken checksum, without its end or with bytes after it is refused as damaged and changes nothing; a JPEG without its end marker too', async () => {
    const admin = await loginAs(app, kernel, voxtra, 'admin');
    const put = (bytes: Buffer) =>
      app.inject({
        method: 'PUT',
        url: '/api/v1/portal/logo',
        headers: { cookie: admin.cookie, 'x-csrf-token': admin.csrfToken },
        payload: { contentBase64: bytes.toString('base64') },
      });
    const png = makeTestPng(60, 20);
    const chunk = (type: string, data: Buffer): Buffer => {
      const head = Buffer.alloc(4);
      head.writeUInt32BE(data.length);
      const crc = Buffer.alloc(4);
      crc.writeUInt32BE(crc32(Buffer.concat([Buffer.from(type, 'latin1'), data])));
      return Buffer.concat([head, Buffer.from(type, 'latin1'), data, crc]);
    };
    // Signature and IHDR as the helper writes them; image data of the right size, cut in half.
    const head = png.subarray(0, 33);
    const rows = Buffer.alloc(20 * (1 + 60 * 3));
    const whole = Buffer.concat([head, chunk('IDAT', deflateSync(rows)), chunk('IEND', Buffer.alloc(0))]);
    expect((await put(whole)).statusCode).toBe(200);
    expect(
      (
        await app.inject({
          method: 'DELETE',
          url: '/api/v1/portal/logo',
          headers: { cookie: admin.cookie, 'x-csrf-token': admin.csrfToken },
        })
      ).statusCode,
    ).toBe(204);
    const deflated = deflateSync(rows);
    const flipped = Buffer.from(png);
    flipped[45] = (flipped[45] ?? 0) ^ 0xff;
    const cases: Array<[string, Buffer, RegExp]> = [
      ['IHDR cut (30 bytes)', png.subarray(0, 30), /damaged: it is cut off/],
      ['IHDR only', head, /damaged: it is cut off before its end \(IEND\)/],
      ['no IEND', png.subarray(0, png.length - 12), /damaged: it is cut off before its end/],
      ['bytes after IEND', Buffer.concat([png, Buffer.from('trailing')]), /damaged: bytes follow its end/],
      ['a flipped byte', flipped, /damaged: chunk \w+ fails its checksum/],
      [
        'image data cut, checksums right',
        Buffer.concat([
          head,
          chunk('IDAT', deflated.subarray(0, deflated.length >> 1)),
          chunk('IEND', Buffer.alloc(0)),
        ]),
        /damaged: its image data is cut off or corrupt/,
      ],
      [
        'too few scanlines',
        Buffer.concat([
          head,
          chunk('IDAT', deflateSync(rows.subarray(0, rows.length - 181))),
          chunk('IEND', Buffer.alloc(0)),
        ]),
        /damaged: its image data does not match its size/,
      ],
      [
        'a JPEG without EOI',
        Buffer.from([
          0xff, 0xd8, 0xff, 0xc0, 0x00, 0x11, 8, 0, 100, 1, 44, 3, 1, 0x22, 0, 2, 0x11, 1, 3, 0x11, 1, 0xff,
          0xda,
        ]),
        /damaged: it is cut off before its end \(EOI\)/,
      ],
    ];
    for (const [name, bytes, reason] of cases) {
      const refused = await put(bytes);
      expect(refused.statusCode, `${name}: ${refused.body}`).toBe(400);
      expect(refused.json(), name).toMatchObject({ code: 'validation_failed' });
      expect(refused.json<{ detail: string }>().detail, name).toMatch(reason);
    }
    const stored = await runAsOwner(database.ownerUrl, 'select 1 from portal_logos where tenant_id = $1', [
      voxtra.tenantId,
    ]);
    expect(stored.rowCount).toBe(0);
  });
});
