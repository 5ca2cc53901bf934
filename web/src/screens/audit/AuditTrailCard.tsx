import './messages.js';
import { Badge, Button, Card, Stack, Table, Text, Title } from '@mantine/core';
import { useInfiniteQuery } from '@tanstack/react-query';
import { useTranslation } from 'react-i18next';
import { useMyPurposes, type Localized } from '../../api/auth.js';
import { api } from '../../api/client.js';
import { currentLanguage } from '../../i18n/index.js';
import { CaptionedTable } from '../../ui/CaptionedTable.js';
import { ProblemAlert } from '../../ui/ProblemAlert.js';
import { formatMoment } from '../../ui/dates.js';

interface TrailEntry {
  seq: number;
  at: string;
  actor: { kind: 'staff' | 'subject' | 'system'; id: string };
  role: string | null;
  purpose: string | null;
  action: string;
  categories: string[];
  records: number | null;
  batchSize: number;
  decision: 'allowed' | 'denied';
}

interface TrailPage {
  items: TrailEntry[];
  nextCursor: string | null;
  labels: Record<'roles' | 'purposes' | 'categories', Record<string, Localized>>;
}

const ACTIONS = new Set(['read', 'write', 'store', 'erase', 'export']);

/**
 * Who looked at this person and why (issue #20): the audit entries naming them, newest first,
 * read under the rights purpose (the route's only purpose), so shown to the roles that hold it.
 * Purposes, roles and data are shown by the policy's labels.
 */
export function AuditTrailCard({ subjectId }: { subjectId: number }) {
  const { t } = useTranslation();
  const purposes = useMyPurposes();
  const allowed = purposes.data?.purposes.some((purpose) => purpose.key === 'rights_requests') ?? false;
  const trail = useInfiniteQuery({
    queryKey: ['audit-trail', subjectId],
    enabled: allowed,
    initialPageParam: undefined as string | undefined,
    queryFn: ({ pageParam }) =>
      api<TrailPage>('GET', `/api/v1/people/${subjectId}/audit`, {
        query: { limit: 25, ...(pageParam ? { cursor: pageParam } : {}) },
      }),
    getNextPageParam: (last) => last.nextCursor ?? undefined,
  });
  if (!allowed) return null;
  const language = currentLanguage();
  const pages = trail.data?.pages ?? [];
  const label = (kind: keyof TrailPage['labels'], key: string | null): string => {
    if (key === null) return '';
    for (const page of pages) {
      const found = page.labels[kind][key];
      if (found) return found[language];
    }
    return key;
  };
  const who = (entry: TrailEntry): string =>
    entry.actor.kind === 'staff'
      ? t('audit.staff', { id: entry.actor.id })
      : entry.actor.kind === 'system'
        ? t('audit.system', { id: entry.actor.id })
        : entry.actor.id === 'self'
          ? t('audit.self')
          : t('audit.otherPerson');
  const what = (entry: TrailEntry): string =>
    entry.action === 'audit.read'
      ? t('audit.actions.auditRead')
      : ACTIONS.has(entry.action)
        ? t(`audit.actions.${entry.action}`)
        : t('audit.actions.other', { action: entry.action });
  const entries = pages.flatMap((page) => page.items);
  return (
    <Card withBorder data-testid="audit-trail">
      <Stack gap="sm">
        <Title order={2} size="h4">
          {t('audit.trailTitle')}
        </Title>
        <Text size="sm" c="dimmed">
          {t('audit.trailIntro')}
        </Text>
        {trail.error ? <ProblemAlert error={trail.error} /> : null}
        {trail.data && entries.length === 0 ? <Text size="sm">{t('audit.noEntries')}</Text> : null}
        {entries.length > 0 ? (
          <CaptionedTable
            caption={t('audit.trailCaption')}
            headers={[
              t('audit.when'),
              t('audit.who'),
              t('audit.role'),
              t('audit.purpose'),
              t('audit.action'),
              t('audit.categories'),
            ]}
          >
            {entries.map((entry) => (
              <Table.Tr key={entry.seq} data-testid={`audit-${entry.seq}`}>
                <Table.Td>{formatMoment(entry.at, { seconds: true })}</Table.Td>
                <Table.Td>{who(entry)}</Table.Td>
                <Table.Td>{label('roles', entry.role)}</Table.Td>
                <Table.Td>{label('purposes', entry.purpose)}</Table.Td>
                <Table.Td>
                  {what(entry)}
                  {entry.decision === 'denied' ? (
                    <Badge ml="xs" color="red.9" tt="none">
                      {t('audit.refused')}
                    </Badge>
                  ) : null}
                  {entry.batchSize > 1 ? (
                    <Text size="xs" c="dimmed">
                      {t('audit.batch', { count: entry.batchSize - 1 })}
                    </Text>
                  ) : null}
                </Table.Td>
                <Table.Td>{entry.categories.map((key) => label('categories', key)).join(', ')}</Table.Td>
              </Table.Tr>
            ))}
          </CaptionedTable>
        ) : null}
        {trail.hasNextPage ? (
          <Button
            variant="default"
            onClick={() => void trail.fetchNextPage()}
            loading={trail.isFetchingNextPage}
          >
            {t('audit.more')}
          </Button>
        ) : null}
        <Text size="xs" c="dimmed">
          {t('audit.staffNote')}
        </Text>
      </Stack>
    </Card>
  );
}
