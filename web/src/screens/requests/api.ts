import { useQuery } from '@tanstack/react-query';
import { api } from '../../api/client.js';
import { brusselsToday } from '../../ui/dates.js';

export type RequestState = 'awaiting_verification' | 'verified' | 'fulfilled' | 'rejected';

export interface RightsRequest {
  requestId: string;
  kind: string;
  state: RequestState;
  receivedOn: string;
  dueOn: string;
  channel: string;
  subjectId: number | null;
  overdue: boolean;
  verificationMethod: string | null;
  /** The extended due date, once extended. */
  extendedUntil: string | null;
  /** Whether the server would accept an extension now (open, not yet extended). */
  canExtend: boolean;
}

export interface Letter {
  language: 'nl' | 'fr' | 'en';
  subject: string;
  text: string;
  /**
   * post: the person has no e-mail address on file, staff print and post the letter; status_page:
   * the request names nobody, its requester follows it on the status page; none: neither an e-mail
   * nor a postal address on file, staff record one before extending or rejecting (decision 1192).
   */
  delivery: 'email' | 'post' | 'status_page' | 'none';
}

interface Page {
  items: RightsRequest[];
  nextCursor: string | null;
}

/**
 * Every request of the tenant by due date (the routes act under the rights-requests purpose of the
 * policy, fixed on the server). Pages of 500 are followed to the end: an inbox is hundreds, not
 * millions.
 */
export function useRequests() {
  return useQuery({
    queryKey: ['requests'],
    queryFn: async () => {
      const items: RightsRequest[] = [];
      let cursor: string | undefined;
      for (let page = 0; page < 20; page += 1) {
        const answer: Page = await api<Page>('GET', '/api/v1/requests', { query: { limit: 500, cursor } });
        items.push(...answer.items);
        if (!answer.nextCursor) break;
        cursor = answer.nextCursor;
      }
      return items;
    },
  });
}

/** Days from today (the Brussels calendar day, whatever the browser's zone) to a YYYY-MM-DD date. */
export function daysUntil(date: string, today = new Date()): number {
  const dayNumber = (day: string): number => {
    const [year = 1970, month = 1, date = 1] = day.split('-').map(Number);
    return Date.UTC(year, month - 1, date);
  };
  return Math.round((dayNumber(date) - dayNumber(brusselsToday(today))) / 86_400_000);
}

export const isOpen = (request: RightsRequest): boolean =>
  request.state === 'awaiting_verification' || request.state === 'verified';
