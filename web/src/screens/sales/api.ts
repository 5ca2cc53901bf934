import { useQuery } from '@tanstack/react-query';
import { api } from '../../api/client.js';

export interface Product {
  productId: number;
  code: string;
  name: string;
  kind: 'subscription' | 'one_off' | 'service';
  priceCents: number;
  vatRatePercent: number;
  isActive: boolean;
}

export interface Line {
  lineNo: number;
  productId: number;
  productCode: string;
  productName?: string;
  quantity: number;
  unitPriceCents: number;
}

export interface Quote {
  quoteId: number;
  subjectId: number | null;
  status: 'draft' | 'sent' | 'accepted' | 'rejected' | 'expired';
  validUntil: string;
  createdAt: string;
  lines: Line[];
}

export interface Order {
  orderId: number;
  subjectId: number | null;
  quoteId: number | null;
  status: 'placed' | 'delivered' | 'cancelled';
  createdAt: string;
  lines: Line[];
}

export interface Contract {
  contractId: number;
  subjectId: number | null;
  orderId: number | null;
  startDate: string;
  endDate: string | null;
  status: 'upcoming' | 'active' | 'ended';
  termination: { terminatedOn: string; channel: string; reasonCode: string } | null;
  lines: Line[];
}

interface Page<T> {
  items: T[];
  nextCursor: string | null;
}

/** Every page of a list (the screens sort and filter in the browser). */
export async function allPages<T>(path: string, purpose: string | undefined, max = 30): Promise<T[]> {
  const items: T[] = [];
  let cursor: string | undefined;
  for (let page = 0; page < max; page += 1) {
    const answer = await api<Page<T>>('GET', path, { purpose, query: { limit: 100, cursor } });
    items.push(...answer.items);
    if (!answer.nextCursor) break;
    cursor = answer.nextCursor;
  }
  return items;
}

export function useProducts(purpose?: string) {
  return useQuery({
    queryKey: ['products'],
    queryFn: () => allPages<Product>('/api/v1/products', purpose),
    staleTime: 60_000,
  });
}

export function euros(cents: number, language: string): string {
  return new Intl.NumberFormat(`${language}-BE`, { style: 'currency', currency: 'EUR' }).format(cents / 100);
}

export function totalOf(lines: readonly Line[]): number {
  return lines.reduce((sum, line) => sum + line.quantity * line.unitPriceCents, 0);
}
