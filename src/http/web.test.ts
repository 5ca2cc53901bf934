import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, testLogger, type TestDatabase } from '../../test/database.js';
import { createTestKernel } from '../../test/kernel.js';
import { buildApp } from './app.js';

let database: TestDatabase;
let app: FastifyInstance;
let root: string;

beforeAll(async () => {
  database = await createTestDatabase();
  // A stand-in for dist/web (the real one is built by `npm run build`; the browser tests use it).
  root = mkdtempSync(path.join(os.tmpdir(), 'kluis-web-'));
  mkdirSync(path.join(root, 'assets'));
  writeFileSync(path.join(root, 'index.html'), '<!doctype html><title>Kluis</title><div id="root"></div>');
  writeFileSync(path.join(root, 'assets', 'index-abc123.js'), 'console.log(1)');
  app = await buildApp({
    kernel: createTestKernel(database),
    logger: testLogger,
    version: 'test',
    webRoot: `${root}/`,
  });
});
afterAll(async () => {
  await app?.close();
  await database?.close();
  rmSync(root, { recursive: true, force: true });
});

describe('the staff back office at /', () => {
  it('serves the app at / and at its own page paths, under the CSP that allows no inline script', async () => {
    for (const url of ['/', '/requests', '/requests/0b6c4c8e-7c56-4d5e-9d0f-1d2b3c4d5e6f', '/people/12']) {
      const response = await app.inject({ method: 'GET', url });
      expect(response.statusCode, url).toBe(200);
      expect(response.headers['content-type']).toMatch(/^text\/html/);
      expect(response.body).toContain('<div id="root">');
      expect(response.headers['cache-control']).toBe('no-cache');
      expect(response.headers['content-security-policy']).toContain("script-src 'self'");
      expect(response.headers['content-security-policy']).not.toContain("'unsafe-inline' 'self'");
    }
    const asset = await app.inject({ method: 'GET', url: '/assets/index-abc123.js' });
    expect(asset.statusCode).toBe(200);
    expect(asset.headers['content-type']).toMatch(/javascript/);
    expect(asset.headers['cache-control']).toBe('public, max-age=31536000, immutable');
  });

  it('does not shadow the API, the public pages, /health, /docs or a missing asset: their own answers, 404 included', async () => {
    const api = await app.inject({ method: 'GET', url: '/api/v1/no-such-route' });
    expect(api.statusCode).toBe(404);
    expect(api.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect(api.json()).toMatchObject({ code: 'not_found' });
    for (const url of ['/t/no-such-tenant/nothing', '/docs/x', '/api']) {
      const response = await app.inject({ method: 'GET', url });
      expect(response.statusCode, url).toBe(404);
      expect(response.body).not.toContain('<div id="root">');
    }
    expect((await app.inject({ method: 'GET', url: '/health' })).json()).toEqual({ status: 'ok', db: 'ok' });
    const me = await app.inject({ method: 'GET', url: '/api/v1/auth/me' });
    expect(me.statusCode).toBe(401);
    const missingAsset = await app.inject({ method: 'GET', url: '/assets/missing.js' });
    expect(missingAsset.statusCode).toBe(404);
  });
});
