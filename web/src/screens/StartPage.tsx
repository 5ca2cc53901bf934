import { Badge, Card, Group, SimpleGrid, Stack, Text, Title } from '@mantine/core';
import { useQuery } from '@tanstack/react-query';
import type { ReactNode } from 'react';
import { useTranslation } from 'react-i18next';
import { Link } from 'react-router';
import { useCan, type Me } from '../api/auth.js';
import { api } from '../api/client.js';
import type { ScreenEntry } from '../layout/screens.js';
import { useScreenPurpose } from '../purposes/usePurpose.js';
import { hoursLeft, onTheClock, useCases, useIncidents } from './privacy/api.js';
import { isOpen, useRequests } from './requests/api.js';
import { allPages, type Order, type Quote } from './sales/api.js';
import { addDays, brusselsToday } from '../ui/dates.js';

/**
 * The start page: the screens of this role, each with what is due there where the API tells it
 * (rights requests, incidents on their 72-hour clock, holds ending, unpaid invoices, open quotes,
 * staff who have not signed in yet).
 */
export function StartPage({ me, screens }: { me: Me; screens: ScreenEntry[] }) {
  const { t } = useTranslation();
  return (
    <Stack>
      <Title order={1}>{t('start.title')}</Title>
      <Text c="dimmed">{t('start.intro', { tenant: me.tenant })}</Text>
      <SimpleGrid cols={{ base: 1, sm: 2, lg: 3 }}>
        {screens.map((screen) => (
          // Mantine's focus ring: a tile reached by Tab shows it has the focus, as every other link does.
          <Card key={screen.path} withBorder component={Link} to={screen.path} className="mantine-focus-auto">
            <Text fw={600}>{t(screen.label)}</Text>
            {DUE[screen.path] ?? null}
          </Card>
        ))}
      </SimpleGrid>
    </Stack>
  );
}

const DUE: Record<string, ReactNode> = {
  '/requests': <RequestsDue />,
  '/privacy': <PrivacyDue />,
  '/billing': <InvoicesDue />,
  '/sales': <SalesDue />,
  '/staff': <StaffDue />,
  '/rating': <ImportsDue />,
};

function Counts({ testId, children }: { testId: string; children: ReactNode }) {
  return (
    <Group gap="xs" mt="xs" data-testid={testId}>
      {children}
    </Group>
  );
}

function Count({ label, alert = false }: { label: string; alert?: boolean }) {
  return (
    <Badge color={alert ? 'red.9' : 'indigo.8'} tt="none">
      {label}
    </Badge>
  );
}

/** Open and overdue rights requests (VK-27: the deadlines in view). */
function RequestsDue() {
  const { t } = useTranslation();
  const requests = useRequests();
  if (!requests.data) return null;
  const open = requests.data.filter(isOpen);
  const overdue = open.filter((request) => request.overdue);
  return (
    <Counts testId="requests-due">
      <Count label={t('start.open', { count: open.length })} />
      <Count label={t('start.overdue', { count: overdue.length })} alert={overdue.length > 0} />
    </Counts>
  );
}

const HOLD_HORIZON_DAYS = 30;

/** Breaches on their 72-hour clock (the nearest deadline) and holds that end within 30 days. */
function PrivacyDue() {
  const { t } = useTranslation();
  const incidents = useIncidents();
  const cases = useCases();
  const clock = (incidents.data ?? []).filter(onTheClock);
  const nearest = clock.map((incident) => hoursLeft(incident.deadline ?? '')).sort((a, b) => a - b)[0];
  const horizon = addDays(brusselsToday(), HOLD_HORIZON_DAYS);
  const ending = (cases.data ?? []).filter((found) => found.active && found.endsOn <= horizon);
  if (!incidents.data && !cases.data) return null;
  return (
    <Counts testId="privacy-due">
      <Count label={t('start.onClock', { count: clock.length })} alert={clock.length > 0} />
      {nearest !== undefined ? (
        <Count
          label={
            nearest < 0
              ? t('incident.late', { count: -nearest })
              : t('incident.hoursLeft', { count: nearest })
          }
          alert
        />
      ) : null}
      {cases.data ? <Count label={t('start.holdsEnding', { count: ending.length })} /> : null}
    </Counts>
  );
}

/** Unpaid and overdue invoices, read under the role's billing purpose. */
function InvoicesDue() {
  const { t } = useTranslation();
  const purpose = useScreenPurpose('billing');
  const counts = useQuery({
    queryKey: ['invoices', 'due', purpose.purpose],
    enabled: purpose.purpose !== undefined,
    queryFn: async () => {
      const statuses = ['open', 'partially_paid', 'overdue'] as const;
      const pages = await Promise.all(
        statuses.map((status) =>
          api<{ items: unknown[]; nextCursor: string | null }>('GET', '/api/v1/invoices', {
            purpose: purpose.purpose,
            query: { status, kind: 'invoice', limit: 200 },
          }),
        ),
      );
      const count = (index: number) => {
        const page = pages[index];
        return page ? `${page.items.length}${page.nextCursor ? '+' : ''}` : '0';
      };
      return {
        unpaid: pages.reduce((sum, page) => sum + page.items.length, 0),
        more: pages.some((page) => page.nextCursor !== null),
        overdue: count(2),
        overdueCount: pages[2]?.items.length ?? 0,
      };
    },
  });
  if (!counts.data) return null;
  return (
    <Counts testId="invoices-due">
      <Count label={t('start.unpaid', { count: `${counts.data.unpaid}${counts.data.more ? '+' : ''}` })} />
      <Count
        label={t('start.overdue', { count: counts.data.overdue })}
        alert={counts.data.overdueCount > 0}
      />
    </Counts>
  );
}

/** Quotes still open (draft or sent) and orders waiting for delivery. */
function SalesDue() {
  const { t } = useTranslation();
  const purpose = useScreenPurpose('quotes');
  const counts = useQuery({
    queryKey: ['sales', 'due', purpose.purpose],
    enabled: purpose.purpose !== undefined,
    queryFn: async () => {
      const [quotes, orders] = await Promise.all([
        allPages<Quote>('/api/v1/quotes', purpose.purpose, 5),
        allPages<Order>('/api/v1/orders', purpose.purpose, 5),
      ]);
      return {
        quotes: quotes.filter((quote) => quote.status === 'draft' || quote.status === 'sent').length,
        orders: orders.filter((order) => order.status === 'placed').length,
      };
    },
  });
  if (!counts.data) return null;
  return (
    <Counts testId="sales-due">
      <Count label={t('start.openQuotes', { count: counts.data.quotes })} />
      <Count label={t('start.toDeliver', { count: counts.data.orders })} />
    </Counts>
  );
}

/** Staff members invited who have not chosen their own password yet, and locked accounts. */
function StaffDue() {
  const { t } = useTranslation();
  const staff = useQuery({
    queryKey: ['staff', 'list', 'start'],
    queryFn: async () =>
      (
        await api<{ items: Array<{ mustChangePassword: boolean; isLocked: boolean; status: string }> }>(
          'GET',
          '/api/v1/staff',
          { query: { limit: 200 } },
        )
      ).items,
  });
  if (!staff.data) return null;
  const invited = staff.data.filter(
    (member) => member.status === 'active' && member.mustChangePassword,
  ).length;
  const locked = staff.data.filter((member) => member.isLocked).length;
  return (
    <Counts testId="staff-due">
      <Count label={t('start.invited', { count: invited })} />
      <Count label={t('start.locked', { count: locked })} alert={locked > 0} />
    </Counts>
  );
}

/** Call-record imports that failed, were interrupted or rejected lines in the last 30 days. */
function ImportsDue() {
  const { t } = useTranslation();
  // The rating tile shows for the tariff's roles too; the imports are asked for only where allowed.
  const can = useCan();
  const failed = useQuery({
    enabled: can('callImports'),
    queryKey: ['call-imports', 'due'],
    queryFn: () =>
      api<{ items: unknown[]; nextCursor: string | null }>('GET', '/api/v1/call-record-imports', {
        query: { problems: true, limit: 200, since: new Date(Date.now() - 30 * 86_400_000).toISOString() },
      }),
  });
  if (!failed.data) return null;
  const count = failed.data.items.length;
  return (
    <Counts testId="imports-due">
      <Count
        label={t('start.failedImports', { count: `${count}${failed.data.nextCursor ? '+' : ''}` })}
        alert={count > 0}
      />
    </Counts>
  );
}
