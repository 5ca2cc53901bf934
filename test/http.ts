import type { FastifyInstance } from 'fastify';
import { buildApp } from '../src/http/app.js';
import type { Kernel } from '../src/kernel/kernel.js';
import { createStaffUser } from '../src/modules/staff/index.js';
import { testLogger } from './database.js';

export async function createTestApp(kernel: Kernel): Promise<FastifyInstance> {
  return buildApp({ kernel, logger: testLogger, version: 'test' });
}

export interface StaffSession {
  cookie: string;
  csrfToken: string;
  staffId: number;
}

/** Creates a staff member with a role and logs in through the API. */
export async function loginAs(
  app: FastifyInstance,
  kernel: Kernel,
  tenant: { tenantId: number; slug: string },
  role: string,
): Promise<StaffSession> {
  const email = `${role}-${Math.random().toString(36).slice(2, 8)}@staff.example`;
  const created = await createStaffUser(
    kernel,
    tenant.tenantId,
    { kind: 'system', job: 'test' },
    { email, displayName: role, role },
  );
  const response = await app.inject({
    method: 'POST',
    url: '/api/v1/auth/login',
    payload: { tenant: tenant.slug, email, password: created.oneTimePassword },
  });
  if (response.statusCode !== 200) throw new Error(`login failed: ${response.body}`);
  const setCookie = String(response.headers['set-cookie']);
  const cookie = setCookie.split(';')[0] ?? '';
  return { cookie, csrfToken: response.json<{ csrfToken: string }>().csrfToken, staffId: created.staffId };
}
