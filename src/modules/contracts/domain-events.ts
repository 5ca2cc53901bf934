import type { Kernel } from '../../kernel/kernel.js';
import type { Tx } from '../../platform/db.js';

/**
 * Domain events: a transactional outbox. An event is inserted in the same transaction as the
 * change it reports, so it exists exactly when the change committed. Delivery is at least once:
 * a subscriber may see an event again after a crash between its work and `markEventProcessed`,
 * so handlers must be idempotent. Payloads carry ids, dates and fixed keys, never personal data.
 */

/** `contract.terminated`: the payload later issues subscribe to (VX-7 dossier erasure, VK-14 clocks). */
export interface ContractTerminatedPayload {
  contractId: number;
  /** Internal subject id (no personal data by itself); null for a business contract without one. */
  subjectId: number | null;
  organisationId: number | null;
  /** The day the termination takes effect; the contract's last day. */
  terminatedOn: string;
  /** `written` is what VX-7's "on written termination" turns on. */
  channel: string;
  recordedAt: string;
  /**
   * The subject's other contracts still running or upcoming without a termination of their own:
   * 0 when this termination ends the customer relation. Absent in events recorded before it existed.
   */
  otherOpenContracts?: number;
  /** Whether any termination of the subject's contracts, this one included, came in writing. */
  writtenNoticeOnRecord?: boolean;
  /**
   * The latest last day of the subject's contracts, this one included: another contract terminated
   * earlier may end after this one (decision 1032). Absent in events recorded before it existed.
   */
  relationLastDay?: string;
}

export interface DomainEventPayloads {
  'contract.terminated': ContractTerminatedPayload;
}

export type DomainEventType = keyof DomainEventPayloads;

export interface DomainEvent<T extends DomainEventType = DomainEventType> {
  tenantId: number;
  eventId: number;
  type: T;
  payload: DomainEventPayloads[T];
  occurredAt: Date;
  processedAt: Date | null;
}

/** Records an event inside the caller's transaction (it commits or rolls back with the change). */
export async function recordDomainEvent<T extends DomainEventType>(
  tx: Tx,
  tenantId: number,
  type: T,
  payload: DomainEventPayloads[T],
  at: Date,
): Promise<number> {
  const row = await tx
    .insertInto('domain_events')
    .values({ tenant_id: tenantId, type, payload: JSON.stringify(payload), occurred_at: at })
    .returning('event_id')
    .executeTakeFirstOrThrow();
  return row.event_id;
}

export interface PendingEventsOptions {
  types?: readonly DomainEventType[];
  limit?: number;
}

/** Unprocessed events of a tenant, oldest first. */
export async function listPendingEvents(
  kernel: Kernel,
  tenantId: number,
  options: PendingEventsOptions = {},
): Promise<DomainEvent[]> {
  return kernel.plain(tenantId, async (tx) => {
    let query = tx
      .selectFrom('domain_events')
      .selectAll()
      .where('processed_at', 'is', null)
      .orderBy('event_id')
      .limit(options.limit ?? 100);
    if (options.types)
      query = query.where('type', '=', (eb) => eb.fn.any(eb.val([...(options.types ?? [])])));
    const rows = await query.execute();
    return rows.map((row) => ({
      tenantId: row.tenant_id,
      eventId: row.event_id,
      // Written only by recordDomainEvent with a checked type and payload.
      type: row.type as DomainEventType,
      payload: row.payload as DomainEventPayloads[DomainEventType],
      occurredAt: row.occurred_at,
      processedAt: row.processed_at,
    }));
  });
}

/** Marks an event processed; false when it already was (another worker got there first). */
export async function markEventProcessed(
  kernel: Kernel,
  tenantId: number,
  eventId: number,
): Promise<boolean> {
  return kernel.plain(tenantId, async (tx) => {
    const result = await tx
      .updateTable('domain_events')
      .set({ processed_at: kernel.clock.now() })
      .where('event_id', '=', eventId)
      .where('processed_at', 'is', null)
      .executeTakeFirst();
    return Number(result.numUpdatedRows) > 0;
  });
}

export type DomainEventHandler<T extends DomainEventType> = (event: DomainEvent<T>) => Promise<void>;

interface TenantDispatch {
  /** Set by a dispatch asked for while this one runs: read the pending events once more. */
  again: boolean;
  done: Promise<number>;
}

/**
 * A tiny in-process subscriber registry. `dispatchPending` hands each pending event of a tenant to
 * every handler of its type, then marks it processed; a handler that throws leaves the event
 * pending for the next run (and stops this run, so order is kept).
 */
export class DomainEventSubscribers {
  readonly #handlers = new Map<DomainEventType, Array<DomainEventHandler<DomainEventType>>>();
  readonly #dispatches = new Map<number, TenantDispatch>();

  on<T extends DomainEventType>(type: T, handler: DomainEventHandler<T>): () => void {
    const list = this.#handlers.get(type) ?? [];
    // Handlers are stored per type and only called with events of that type.
    const stored = handler as unknown as DomainEventHandler<DomainEventType>;
    list.push(stored);
    this.#handlers.set(type, list);
    return () => {
      const current = this.#handlers.get(type) ?? [];
      this.#handlers.set(
        type,
        current.filter((candidate) => candidate !== stored),
      );
    };
  }

  /**
   * Returns how many events were processed. One dispatch per tenant runs at a time in this process:
   * two terminations committing together both dispatch, and each would hand the other's event to
   * the handlers as well (twice the certificate; attack S16-2, decision 0815). A dispatch asked for
   * while one runs joins it, and the running one reads the pending events once more before it ends,
   * so the caller's event is delivered before its promise settles.
   */
  dispatchPending(kernel: Kernel, tenantId: number, options: { limit?: number } = {}): Promise<number> {
    const running = this.#dispatches.get(tenantId);
    if (running) {
      running.again = true;
      return running.done;
    }
    const dispatch: TenantDispatch = { again: false, done: Promise.resolve(0) };
    dispatch.done = (async () => {
      try {
        let processed = 0;
        do {
          dispatch.again = false;
          processed += await this.#dispatchOnce(kernel, tenantId, options.limit ?? 100);
        } while (dispatch.again);
        return processed;
      } finally {
        this.#dispatches.delete(tenantId);
      }
    })();
    this.#dispatches.set(tenantId, dispatch);
    return dispatch.done;
  }

  async #dispatchOnce(kernel: Kernel, tenantId: number, limit: number): Promise<number> {
    const events = await listPendingEvents(kernel, tenantId, { limit });
    let processed = 0;
    for (const event of events) {
      for (const handler of this.#handlers.get(event.type) ?? []) await handler(event);
      if (await markEventProcessed(kernel, tenantId, event.eventId)) processed += 1;
    }
    return processed;
  }
}
