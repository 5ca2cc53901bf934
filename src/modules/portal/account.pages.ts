import type { FastifyInstance } from 'fastify';
import type { PortalDeps } from './portal.routes.js';

export function registerAccountPages(_app: FastifyInstance, _deps: PortalDeps): void {}
