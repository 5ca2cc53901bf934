import { Button, Card, Group, Progress, SimpleGrid, Stack, Text, TextInput, Title } from '@mantine/core';
import { useQuery } from '@tanstack/react-query';
import type { ColumnDef } from '@tanstack/react-table';
import { useMemo, useState } from 'react';
import { useTranslation } from 'react-i18next';
import { api } from '../../api/client.js';
import { DataTable } from '../../ui/DataTable.js';
import { ProblemAlert } from '../../ui/ProblemAlert.js';
import { addDays, brusselsToday } from '../../ui/dates.js';

interface Rates {
  from: string;
  to: string;
  choices: number;
  withGpc: number;
  categories: Array<{ category: string; granted: number; rate: number }>;
}

interface Visits {
  days: Array<{ day: string; page: string; visits: number }>;
  countries: Array<{ country: string; visits: number }>;
}

/** The website's cookie consent rates and the visits of those who allowed statistics (VK-3). */
export function WebsitePage() {
  const { t } = useTranslation();
  const [range, setRange] = useState(() => ({
    from: addDays(brusselsToday(), -29),
    to: brusselsToday(),
  }));
  const [draft, setDraft] = useState(range);
  const rates = useQuery({
    queryKey: ['cookie-rates', range],
    queryFn: () => api<Rates>('GET', '/api/v1/cookies/consent-rates', { query: range }),
  });
  const visits = useQuery({
    queryKey: ['cookie-visits', range],
    queryFn: () => api<Visits>('GET', '/api/v1/cookies/statistics', { query: range }),
  });
  const columns = useMemo<ColumnDef<Visits['days'][number], unknown>[]>(
    () => [
      { id: 'day', header: t('website.day'), accessorKey: 'day' },
      { id: 'page', header: t('website.page'), accessorKey: 'page' },
      { id: 'visits', header: t('website.visits'), accessorKey: 'visits' },
    ],
    [t],
  );
  return (
    <Stack>
      <Title order={1}>{t('nav.website')}</Title>
      <Text size="sm" c="dimmed">
        {t('website.intro')}
      </Text>
      <form
        onSubmit={(event) => {
          event.preventDefault();
          setRange(draft);
        }}
      >
        <Group align="flex-end">
          <TextInput
            type="date"
            label={t('website.from')}
            value={draft.from}
            onChange={(event) => setDraft({ ...draft, from: event.currentTarget.value })}
          />
          <TextInput
            type="date"
            label={t('website.to')}
            value={draft.to}
            onChange={(event) => setDraft({ ...draft, to: event.currentTarget.value })}
          />
          <Button type="submit" variant="default">
            {t('website.show')}
          </Button>
        </Group>
      </form>
      {rates.error ? <ProblemAlert error={rates.error} /> : null}
      {rates.data ? (
        <Card withBorder data-testid="consent-rates">
          <Stack gap="xs">
            <Title order={2} size="h4">
              {t('website.rates')}
            </Title>
            <Text size="sm">
              {t('website.choices', { count: rates.data.choices, gpc: rates.data.withGpc })}
            </Text>
            <SimpleGrid cols={{ base: 1, sm: 2 }}>
              {rates.data.categories.map((category) => (
                <div key={category.category}>
                  <Group justify="space-between">
                    <Text size="sm">
                      {t(`cookieCategory.${category.category}`, { defaultValue: category.category })}
                    </Text>
                    <Text size="sm">{Math.round(category.rate * 100)} %</Text>
                  </Group>
                  <Progress
                    value={category.rate * 100}
                    aria-label={t(`cookieCategory.${category.category}`, { defaultValue: category.category })}
                  />
                </div>
              ))}
            </SimpleGrid>
          </Stack>
        </Card>
      ) : null}
      {visits.error ? <ProblemAlert error={visits.error} /> : null}
      <DataTable data={visits.data?.days ?? []} columns={columns} caption={t('website.visitsCaption')} />
    </Stack>
  );
}
