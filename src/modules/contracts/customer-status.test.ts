import { describe, expect, it } from 'vitest';
import { belgianDate } from './access.js';
import { deriveCustomerStatus } from './contract.service.js';

describe('derived customer status (VX-3, VK-14)', () => {
  const today = '2026-03-02';

  // Part of VX-3, at unit level (requirement IDs title end-to-end tests only).

  it('no contract is a prospect; a running or signed contract a customer', () => {
    expect(deriveCustomerStatus(1, [], today)).toMatchObject({
      status: 'prospect',
      lastContractEndedOn: null,
    });
    expect(
      deriveCustomerStatus(1, [{ startDate: '2026-03-02', endDate: '2026-03-02' }], today),
    ).toMatchObject({
      status: 'customer',
      activeContracts: 1,
    });
    expect(deriveCustomerStatus(1, [{ startDate: '2026-04-01', endDate: null }], today)).toMatchObject({
      status: 'customer',
      upcomingContracts: 1,
    });
  });

  // Part of VK-14, at unit level (requirement IDs title end-to-end tests only).

  it('a former customer carries the last day of their last contract, which starts the retention clocks', () => {
    const status = deriveCustomerStatus(
      1,
      [
        { startDate: '2020-01-01', endDate: '2024-12-31' },
        { startDate: '2022-05-01', endDate: '2026-03-01' },
        { startDate: '2019-01-01', endDate: '2021-06-30' },
      ],
      today,
    );
    expect(status).toEqual({
      subjectId: 1,
      status: 'former_customer',
      activeContracts: 0,
      upcomingContracts: 0,
      endedContracts: 3,
      lastContractEndedOn: '2026-03-01',
    });
    // One contract still running keeps the person a customer.
    expect(
      deriveCustomerStatus(
        1,
        [
          { startDate: '2020-01-01', endDate: '2024-12-31' },
          { startDate: '2025-01-01', endDate: null },
        ],
        today,
      ),
    ).toMatchObject({ status: 'customer', endedContracts: 1, lastContractEndedOn: null });
  });

  it('days are Belgian calendar days', () => {
    expect(belgianDate(new Date('2026-03-01T23:30:00Z'))).toBe('2026-03-02');
    expect(belgianDate(new Date('2026-07-01T21:59:00Z'))).toBe('2026-07-01');
    expect(belgianDate(new Date('2026-07-01T22:00:00Z'))).toBe('2026-07-02');
  });
});
