import { Button, Group, Select, Stack, Table, Text, TextInput, Title } from '@mantine/core';
import { useInfiniteQuery } from '@tanstack/react-query';
import { useState } from 'react';
import { useTranslation } from 'react-i18next';
import type { Localized } from '../../../api/auth.js';
import { api } from '../../../api/client.js';
import { addScreenMessages } from '../../../i18n/screen-messages.js';
import { currentLanguage } from '../../../i18n/index.js';
import { CaptionedTable } from '../../../ui/CaptionedTable.js';
import { ProblemAlert } from '../../../ui/ProblemAlert.js';
import { formatDay, formatMoment } from '../../../ui/dates.js';

const en = {
  title: 'Disclosure log',
  intro:
    'Every time personal data went to a recipient: when, to whom, for which purpose, which data, how many people and who sent it.',
  recipient: 'Recipient',
  allRecipients: 'All recipients',
  from: 'From',
  to: 'To (inclusive)',
  show: 'Show',
  caption: 'Disclosures, newest first',
  when: 'When',
  purpose: 'Purpose',
  data: 'Data',
  people: 'People',
  sentBy: 'Sent by',
  staff: 'staff member no. {{id}}',
  system: 'the system ({{id}})',
  silence: 'silence until {{day}}',
  none: 'Nothing was disclosed in this selection.',
  more: 'Older disclosures',
};

addScreenMessages('disclosureLog', {
  en,
  nl: {
    title: 'Logboek van verstrekkingen',
    intro:
      'Elke keer dat persoonsgegevens naar een ontvanger gingen: wanneer, naar wie, voor welk doel, welke gegevens, hoeveel personen en wie ze verstuurde.',
    recipient: 'Ontvanger',
    allRecipients: 'Alle ontvangers',
    from: 'Van',
    to: 'Tot en met',
    show: 'Tonen',
    caption: 'Verstrekkingen, nieuwste eerst',
    when: 'Wanneer',
    purpose: 'Doel',
    data: 'Gegevens',
    people: 'Personen',
    sentBy: 'Verstuurd door',
    staff: 'medewerker nr. {{id}}',
    system: 'het systeem ({{id}})',
    silence: 'stilzwijgen tot {{day}}',
    none: 'In deze selectie werd niets verstrekt.',
    more: 'Oudere verstrekkingen',
  },
  fr: {
    title: 'Registre des communications',
    intro:
      'Chaque fois que des données personnelles sont allées à un destinataire : quand, à qui, pour quelle finalité, quelles données, combien de personnes et qui les a envoyées.',
    recipient: 'Destinataire',
    allRecipients: 'Tous les destinataires',
    from: 'Du',
    to: 'Au (inclus)',
    show: 'Afficher',
    caption: 'Communications, la plus récente d’abord',
    when: 'Quand',
    purpose: 'Finalité',
    data: 'Données',
    people: 'Personnes',
    sentBy: 'Envoyé par',
    staff: 'membre du personnel n° {{id}}',
    system: 'le système ({{id}})',
    silence: 'silence jusqu’au {{day}}',
    none: 'Rien n’a été communiqué dans cette sélection.',
    more: 'Communications plus anciennes',
  },
});

interface Disclosure {
  disclosureId: number;
  at: string;
  recipient: string;
  purpose: string;
  categories: string[];
  people: number;
  actor: { kind: string; id: string };
  confidentialUntil: string | null;
}

interface DisclosurePage {
  items: Disclosure[];
  nextCursor: string | null;
  labels: Record<'purposes' | 'categories', Record<string, Localized>>;
}

interface Filter {
  recipient: string | null;
  from: string;
  to: string;
}

/** The disclosure log (VK-10) under Privacy → Recipients, filtered by recipient and period. */
export function DisclosureLog({ recipients }: { recipients: Array<{ key: string; label: string }> }) {
  const { t } = useTranslation();
  const [draft, setDraft] = useState<Filter>({ recipient: null, from: '', to: '' });
  const [filter, setFilter] = useState<Filter>(draft);
  const log = useInfiniteQuery({
    queryKey: ['disclosures', filter],
    initialPageParam: undefined as string | undefined,
    queryFn: ({ pageParam }) =>
      api<DisclosurePage>('GET', '/api/v1/disclosures', {
        query: {
          limit: 50,
          recipient: filter.recipient ?? undefined,
          from: filter.from || undefined,
          to: filter.to || undefined,
          cursor: pageParam,
        },
      }),
    getNextPageParam: (last) => last.nextCursor ?? undefined,
  });
  const language = currentLanguage();
  const pages = log.data?.pages ?? [];
  const label = (kind: 'purposes' | 'categories', key: string): string => {
    for (const page of pages) {
      const found = page.labels[kind][key];
      if (found) return found[language];
    }
    return key;
  };
  const recipientLabel = (key: string) => recipients.find((recipient) => recipient.key === key)?.label ?? key;
  const items = pages.flatMap((page) => page.items);
  return (
    <Stack data-testid="disclosure-log">
      <Title order={2} size="h4">
        {t('disclosureLog.title')}
      </Title>
      <Text size="sm" c="dimmed">
        {t('disclosureLog.intro')}
      </Text>
      <form
        onSubmit={(event) => {
          event.preventDefault();
          setFilter(draft);
        }}
      >
        <Group align="flex-end">
          <Select
            label={t('disclosureLog.recipient')}
            placeholder={t('disclosureLog.allRecipients')}
            clearable
            value={draft.recipient}
            onChange={(value) => setDraft({ ...draft, recipient: value })}
            data={recipients.map((recipient) => ({ value: recipient.key, label: recipient.label }))}
            w={280}
          />
          <TextInput
            type="date"
            label={t('disclosureLog.from')}
            value={draft.from}
            onChange={(event) => setDraft({ ...draft, from: event.currentTarget.value })}
          />
          <TextInput
            type="date"
            label={t('disclosureLog.to')}
            value={draft.to}
            onChange={(event) => setDraft({ ...draft, to: event.currentTarget.value })}
          />
          <Button type="submit">{t('disclosureLog.show')}</Button>
        </Group>
      </form>
      {log.error ? <ProblemAlert error={log.error} /> : null}
      {log.data && items.length === 0 ? <Text size="sm">{t('disclosureLog.none')}</Text> : null}
      {items.length > 0 ? (
        <CaptionedTable
          caption={t('disclosureLog.caption')}
          headers={[
            t('disclosureLog.when'),
            t('disclosureLog.recipient'),
            t('disclosureLog.purpose'),
            t('disclosureLog.data'),
            t('disclosureLog.people'),
            t('disclosureLog.sentBy'),
          ]}
        >
          {items.map((item) => (
            <Table.Tr key={item.disclosureId} data-testid={`disclosure-${item.disclosureId}`}>
              <Table.Td>{formatMoment(item.at)}</Table.Td>
              <Table.Td>
                {recipientLabel(item.recipient)}
                {item.confidentialUntil ? (
                  <Text size="xs" c="dimmed">
                    {t('disclosureLog.silence', { day: formatDay(item.confidentialUntil) })}
                  </Text>
                ) : null}
              </Table.Td>
              <Table.Td>{label('purposes', item.purpose)}</Table.Td>
              <Table.Td>{item.categories.map((key) => label('categories', key)).join(', ')}</Table.Td>
              <Table.Td>{item.people}</Table.Td>
              <Table.Td>
                {item.actor.kind === 'staff'
                  ? t('disclosureLog.staff', { id: item.actor.id })
                  : t('disclosureLog.system', { id: item.actor.id })}
              </Table.Td>
            </Table.Tr>
          ))}
        </CaptionedTable>
      ) : null}
      {log.hasNextPage ? (
        <Button variant="default" onClick={() => void log.fetchNextPage()} loading={log.isFetchingNextPage}>
          {t('disclosureLog.more')}
        </Button>
      ) : null}
    </Stack>
  );
}
