import './messages.js';
import { Badge, Button, Card, Stack, Table, Text, Title } from '@mantine/core';
import { useInfiniteQuery } from '@tanstack/react-query';
import type { ReactNode } from 'react';
import { useTranslation } from 'react-i18next';
import { useMyPurposes, type Localized } from '../../api/auth.js';
import { api } from '../../api/client.js';
import { currentLanguage } from '../../i18n/index.js';
import { CaptionedTable } from '../../ui/CaptionedTable.js';
import { ProblemAlert } from '../../ui/ProblemAlert.js';
import { formatMoment } from '../../ui/dates.js';
import { wordsFor } from './audit-words.js';

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
  /** A code (AUDIT_REASON_CODES) or a fixed sentence of the server; null when none. */
  reason: string | null;
}

interface TrailPage {
  items: TrailEntry[];
  nextCursor: string | null;
  labels: Record<'roles' | 'purposes' | 'categories', Record<string, Localized>>;
}

/**
 * A code that may wrap after its dots and underscores (a line break there copies as nothing), so
 * a long one does not widen the table past the card, nor breaks inside a word.
 */
function breakable(codes: string): ReactNode[] {
  return codes
    .split(/(?<=[._])/)
    .flatMap((part, index) => (index === 0 ? [part] : [<wbr key={index} />, part]));
}

/**
 * Who looked at this person and why (issue #20): the audit entries naming them, newest first,
 * read under the rights purpose (the route's only purpose), so shown to the roles that hold it.
 * Purposes, roles and data are shown by the policy's labels; actions, coded reasons and the
 * decision in the screen's language (decision 1260), with the entry's codes as recorded beneath,
 * for quoting to an auditor.
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
    // A system job's or the person's own role is no policy key: the screen has words for it.
    return (kind === 'roles' ? wordsFor(language, 'roles', key) : undefined) ?? key;
  };
  const who = (entry: TrailEntry): string =>
    entry.actor.kind === 'staff'
      ? t('audit.staff', { id: entry.actor.id })
      : entry.actor.kind === 'system'
        ? t('audit.system', { id: entry.actor.id })
        : entry.actor.id === 'self'
          ? t('audit.self')
          : t('audit.otherPerson');
  // A code without words (a newer server) is shown as itself, never left blank.
  const what = (entry: TrailEntry): string => wordsFor(language, 'actions', entry.action) ?? entry.action;
  // A coded reason in words; a sentence (or a newer code) is in the line of codes below only.
  const why = (entry: TrailEntry): string | undefined =>
    entry.reason === null ? undefined : wordsFor(language, 'reasons', entry.reason);
  const recorded = (entry: TrailEntry): string =>
    [entry.action, entry.decision === 'denied' ? entry.decision : null, entry.reason]
      .filter((part) => part !== null)
      .join(' · ');
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
                <Table.Td title={entry.role ?? undefined}>{label('roles', entry.role)}</Table.Td>
                <Table.Td title={entry.purpose ?? undefined}>{label('purposes', entry.purpose)}</Table.Td>
                <Table.Td>
                  <span data-testid="trail-what">{what(entry)}</span>
                  {entry.decision === 'denied' ? (
                    <Badge ml="xs" color="red.9" tt="none">
                      {wordsFor(language, 'decisions', 'denied') ?? entry.decision}
                    </Badge>
                  ) : null}
                  {why(entry) ? (
                    <Text size="sm" data-testid="trail-why">
                      {why(entry)}
                    </Text>
                  ) : null}
                  {entry.batchSize > 1 ? (
                    <Text size="xs" c="dimmed">
                      {t('audit.batch', { count: entry.batchSize - 1 })}
                    </Text>
                  ) : null}
                  <Text size="xs" c="dimmed">
                    {t('audit.recorded')}{' '}
                    <Text
                      span
                      ff="monospace"
                      size="xs"
                      style={{ overflowWrap: 'break-word' }}
                      data-testid="trail-recorded"
                    >
                      {breakable(recorded(entry))}
                    </Text>
                  </Text>
                </Table.Td>
                <Table.Td title={entry.categories.join(', ') || undefined}>
                  {entry.categories.map((key) => label('categories', key)).join(', ')}
                </Table.Td>
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
