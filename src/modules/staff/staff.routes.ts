import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { actorOf, requireStaff, staffOf } from '../../http/auth.js';
import { ID_CURSOR, pageQuery } from '../../http/pagination.js';
import type { Kernel } from '../../kernel/kernel.js';
import { apiTokenSchema, presentApiToken, presentStaff, staffSchema } from './staff.presenter.js';
import {
  changeStaff,
  removeStaff,
  resetStaffPassword,
  createStaffUser,
  getStaff,
  listRoles,
  listStaff,
  STAFF_PURPOSE,
  type StaffChange,
} from './staff.service.js';
import {
  createApiToken,
  listApiTokens,
  revokeApiToken,
  TOKEN_DEFAULT_DAYS,
  TOKEN_MAX_DAYS,
} from './token.service.js';

/**
 * A path id as written: decimal digits only, no sign, point, exponent, hex or spaces (`6.0`,
 * `0x6` and ` 6` are not staff 6; attack finding S23-2).
 */
const pathId = z
  .string()
  .regex(/^[1-9][0-9]{0,15}$/, 'expected a positive whole number in decimal digits')
  .transform(Number)
  .pipe(z.number().int().max(Number.MAX_SAFE_INTEGER));
const staffParams = z.object({ staffId: pathId });
const tokenParams = z.object({ tokenId: pathId });
const roleKey = z.string().regex(/^[a-z][a-z0-9_]{1,40}$/, 'expected a role key');

/**
 * Staff management and API tokens (issue 5): admin roles only, decided by the gate under the
 * staff_accounts purpose. These routes take a staff login, not an API token, so a token can
 * neither mint tokens nor make accounts (decision 0020).
 */
export function registerStaffRoutes(app: FastifyInstance, kernel: Kernel): void {
  const typed = app.withTypeProvider<ZodTypeProvider>();
  const sessionOnly = requireStaff(kernel, { tokens: false, purpose: STAFF_PURPOSE });

  typed.get(
    '/api/v1/staff',
    {
      onRequest: sessionOnly,
      schema: {
        summary: 'Staff accounts of the tenant, by id (pass nextCursor as cursor for the next page)',
        tags: ['staff'],
        querystring: z.object({ ...pageQuery(), cursor: ID_CURSOR.optional() }),
        response: { 200: z.object({ items: z.array(staffSchema), nextCursor: z.string().nullable() }) },
      },
    },
    async (request) => {
      const staff = staffOf(request);
      const { limit, cursor } = request.query;
      const page = await listStaff(kernel, staff.tenantId, actorOf(staff), {
        limit,
        ...(cursor === undefined ? {} : { after: Number(cursor) }),
      });
      return {
        items: page.items.map(presentStaff),
        nextCursor: page.nextAfter === null ? null : String(page.nextAfter),
      };
    },
  );

  typed.get(
    '/api/v1/staff/roles',
    {
      onRequest: sessionOnly,
      schema: {
        summary: 'The roles of the policy in force, with labels in nl/fr/en (to invite or change a role)',
        tags: ['staff'],
        response: {
          200: z.object({
            items: z.array(
              z.object({
                key: z.string(),
                label: z.object({ nl: z.string(), fr: z.string(), en: z.string() }),
              }),
            ),
          }),
        },
      },
    },
    async (request) => {
      const staff = staffOf(request);
      return { items: await listRoles(kernel, staff.tenantId, actorOf(staff)) };
    },
  );

  typed.post(
    '/api/v1/staff',
    {
      onRequest: sessionOnly,
      schema: {
        summary: 'Invite a staff member: returns a one-time password, once (to be changed at first login)',
        tags: ['staff'],
        body: z.object({
          email: z.string().min(3).max(320),
          displayName: z.string().min(1).max(200),
          role: roleKey,
        }),
        response: {
          201: z.object({
            staffId: z.number().int(),
            email: z.string(),
            role: z.string(),
            oneTimePassword: z.string(),
          }),
        },
      },
    },
    async (request, reply) => {
      const staff = staffOf(request);
      const created = await createStaffUser(kernel, staff.tenantId, actorOf(staff), request.body);
      return reply.status(201).send({
        staffId: created.staffId,
        email: created.email,
        role: created.role,
        oneTimePassword: created.oneTimePassword,
      });
    },
  );

  typed.get(
    '/api/v1/staff/:staffId',
    {
      onRequest: sessionOnly,
      schema: {
        summary: 'One staff account',
        tags: ['staff'],
        params: staffParams,
        response: { 200: staffSchema },
      },
    },
    async (request) => {
      const staff = staffOf(request);
      return presentStaff(await getStaff(kernel, staff.tenantId, actorOf(staff), request.params.staffId));
    },
  );

  typed.put(
    '/api/v1/staff/:staffId/role',
    {
      onRequest: sessionOnly,
      schema: {
        summary:
          'Change a staff member’s role (one of the policy’s); their sessions end. The last admin cannot be demoted.',
        tags: ['staff'],
        params: staffParams,
        body: z.object({ role: roleKey }),
        response: { 200: staffSchema },
      },
    },
    async (request) => {
      const staff = staffOf(request);
      const change: StaffChange = { kind: 'role', role: request.body.role };
      return presentStaff(
        await changeStaff(kernel, staff.tenantId, actorOf(staff), request.params.staffId, change),
      );
    },
  );

  const simpleChanges: [string, string, StaffChange][] = [
    [
      'disable',
      'Disable an account: its sessions and API tokens stop at once. Not the last admin.',
      { kind: 'status', status: 'disabled' },
    ],
    ['enable', 'Enable a disabled account', { kind: 'status', status: 'active' }],
    [
      'mfa/reset',
      'Remove an account’s second factor (lost device and codes); it enrols again at its next login',
      { kind: 'mfa_reset' },
    ],
  ];
  for (const [path, summary, change] of simpleChanges) {
    typed.post(
      `/api/v1/staff/:staffId/${path}`,
      {
        onRequest: sessionOnly,
        schema: { summary, tags: ['staff'], params: staffParams, response: { 200: staffSchema } },
      },
      async (request) => {
        const staff = staffOf(request);
        return presentStaff(
          await changeStaff(kernel, staff.tenantId, actorOf(staff), request.params.staffId, change),
        );
      },
    );
  }

  typed.post(
    '/api/v1/staff/:staffId/password/reset',
    {
      onRequest: sessionOnly,
      schema: {
        summary:
          'Give a staff member who forgot their password a new one-time password, once (to be changed at the next login); their sessions end, second factor and API tokens stay. Never one’s own.',
        tags: ['staff'],
        params: staffParams,
        // Nothing to send: the password is chosen by Kluis (a "password" of one's own is refused).
        body: z.strictObject({}).nullish().meta({ example: {} }),
        response: {
          200: z.object({
            staffId: z.number().int(),
            oneTimePassword: z.string(),
            sessionsEnded: z.number().int(),
          }),
        },
      },
    },
    async (request) => {
      const staff = staffOf(request);
      return resetStaffPassword(kernel, staff.tenantId, actorOf(staff), request.params.staffId);
    },
  );

  typed.delete(
    '/api/v1/staff/:staffId',
    {
      onRequest: sessionOnly,
      schema: {
        summary:
          'Remove a former staff member’s account (disabled first): its name, e-mail and credentials are erased; the audit log keeps its number and role. Not your own.',
        tags: ['staff'],
        params: staffParams,
        response: { 200: z.object({ staffId: z.number().int(), removed: z.literal(true) }) },
      },
    },
    async (request) => {
      const staff = staffOf(request);
      return removeStaff(kernel, staff.tenantId, actorOf(staff), request.params.staffId);
    },
  );

  typed.get(
    '/api/v1/tokens',
    {
      onRequest: sessionOnly,
      schema: {
        summary:
          'API tokens (never the tokens themselves): all of the tenant for a staff-managing role, else your own',
        tags: ['tokens'],
        response: { 200: z.object({ items: z.array(apiTokenSchema) }) },
      },
    },
    async (request) => {
      const staff = staffOf(request);
      const items = await listApiTokens(kernel, staff.tenantId, actorOf(staff));
      return { items: items.map(presentApiToken) };
    },
  );

  typed.post(
    '/api/v1/tokens',
    {
      onRequest: sessionOnly,
      schema: {
        summary:
          'Create an API token scoped to one role, at most your own (no purpose beyond yours); a role that requires ' +
          'a second factor needs an account with one. The token is shown once. Use it as `Authorization: Bearer kluis_…`.',
        tags: ['tokens'],
        body: z.strictObject({
          label: z.string().min(1).max(80),
          role: roleKey,
          expiresInDays: z
            .number()
            .int()
            .min(1)
            .max(TOKEN_MAX_DAYS)
            .optional()
            .describe(`days until the token is refused; default ${TOKEN_DEFAULT_DAYS}`),
        }),
        response: { 201: apiTokenSchema.extend({ token: z.string() }) },
      },
    },
    async (request, reply) => {
      const staff = staffOf(request);
      const created = await createApiToken(kernel, staff.tenantId, actorOf(staff), request.body);
      return reply.status(201).send({ ...presentApiToken(created.view), token: created.token });
    },
  );

  typed.delete(
    '/api/v1/tokens/:tokenId',
    {
      onRequest: sessionOnly,
      schema: {
        summary:
          'Revoke an API token (any, for a staff-managing role; else your own); the next request with it to this server is refused, and to another server of the same database within a second (decision 0730)',
        tags: ['tokens'],
        params: tokenParams,
        response: { 200: apiTokenSchema },
      },
    },
    async (request) => {
      const staff = staffOf(request);
      return presentApiToken(
        await revokeApiToken(kernel, staff.tenantId, actorOf(staff), request.params.tokenId),
      );
    },
  );
}
