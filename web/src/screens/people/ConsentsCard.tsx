import { Button, Card, Group, Select, Stack, Text, TextInput, Textarea, Title } from '@mantine/core';
import { useForm } from '@mantine/form';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useState } from 'react';
import { useTranslation } from 'react-i18next';
import { useMyPurposes } from '../../api/auth.js';
import { api } from '../../api/client.js';
import { currentLanguage } from '../../i18n/index.js';
import { localized } from '../../purposes/usePurpose.js';
import { notifySuccess } from '../../ui/notify.js';
import { ProblemAlert } from '../../ui/ProblemAlert.js';
import { ConsentLedgerTable, type ConsentRecord } from './ConsentLedgerTable.js';

const EVENTS = ['given', 'withdrawn', 'objected', 'objected_marketing'] as const;
type StaffEvent = (typeof EVENTS)[number];

/**
 * The consent ledger of a person for one purpose of the role that rests on consent or a
 * legitimate interest (picked from a labelled list), and a consent or objection taken by phone:
 * what was read out and what the person said (VK-29: with the statement version in force).
 */
export function ConsentsCard({ subjectId }: { subjectId: number }) {
  const { t } = useTranslation();
  const queryClient = useQueryClient();
  const purposes = useMyPurposes();
  const candidates = (purposes.data?.purposes ?? []).filter(
    (purpose) => purpose.legalBasis === 'consent' || purpose.legalBasis === 'legitimate_interests',
  );
  const [chosen, setChosen] = useState<string | null>(null);
  const purpose = candidates.find((candidate) => candidate.key === chosen)?.key ?? candidates[0]?.key;
  const ledger = useQuery({
    queryKey: ['consents', subjectId, purpose],
    enabled: purpose !== undefined,
    queryFn: async () =>
      (
        await api<{ items: ConsentRecord[] }>('GET', `/api/v1/people/${subjectId}/consents`, {
          purpose,
          query: { limit: 200 },
        })
      ).items,
  });
  const form = useForm<{ event: StaffEvent; wording: string; statement: string; email: string }>({
    initialValues: { event: 'given', wording: '', statement: '', email: '' },
    validate: {
      wording: (value, values) =>
        values.event !== 'given' || value.trim() ? null : t('consents.wordingNeeded'),
      statement: (value, values) =>
        values.event !== 'given' || value.trim() ? null : t('consents.statementNeeded'),
    },
  });
  const record = useMutation({
    mutationFn: (values: typeof form.values) =>
      api<{ state?: string }>('POST', `/api/v1/people/${subjectId}/consents`, {
        purpose,
        body: {
          event: values.event,
          channel: 'staff_phone',
          ...(values.wording.trim()
            ? { wording: { language: currentLanguage(), text: values.wording } }
            : {}),
          ...(values.statement.trim() ? { statement: values.statement } : {}),
          // A double opt-in purpose needs it (the server says so); others ignore it.
          ...(values.event === 'given' && values.email.trim() ? { email: values.email.trim() } : {}),
        },
      }),
    onSuccess: async (answer) => {
      notifySuccess(t(answer.state === 'pending' ? 'consents.pending' : 'consents.recorded'));
      form.reset();
      await queryClient.invalidateQueries({ queryKey: ['consents', subjectId] });
    },
  });
  if (candidates.length === 0) return null;
  return (
    <Card withBorder data-testid="consents">
      <Stack gap="sm">
        <Title order={2} size="h4">
          {t('consents.title')}
        </Title>
        <Select
          label={t('consents.purpose')}
          description={t('consents.purposeHelp')}
          allowDeselect={false}
          value={purpose ?? null}
          onChange={setChosen}
          data={candidates.map((candidate) => ({
            value: candidate.key,
            label: localized(candidate.label, candidate.key),
          }))}
          maw={560}
        />
        {ledger.error ? <ProblemAlert error={ledger.error} /> : null}
        {ledger.data && ledger.data.length === 0 ? (
          <Text size="sm" c="dimmed">
            {t('consents.none')}
          </Text>
        ) : null}
        {ledger.data && ledger.data.length > 0 ? (
          <ConsentLedgerTable entries={ledger.data} caption={t('consents.caption')} rowTestId="consent-" />
        ) : null}
        <form onSubmit={form.onSubmit((values) => record.mutate(values))} noValidate>
          <Stack gap="sm">
            <Title order={3} size="h5">
              {t('consents.byPhone')}
            </Title>
            <Select
              label={t('consents.event')}
              allowDeselect={false}
              data={EVENTS.map((event) => ({ value: event, label: t(`consentEvent.${event}`) }))}
              {...form.getInputProps('event')}
              maw={420}
            />
            {form.values.event === 'given' ? (
              <>
                <Textarea
                  label={t('consents.wording')}
                  description={t('consents.wordingHelp')}
                  autosize
                  minRows={2}
                  required
                  {...form.getInputProps('wording')}
                />
                <Textarea
                  label={t('consents.statement')}
                  description={t('consents.statementHelp')}
                  autosize
                  minRows={2}
                  required
                  {...form.getInputProps('statement')}
                />
                <TextInput
                  type="email"
                  label={t('consents.email')}
                  description={t('consents.emailHelp')}
                  maw={420}
                  {...form.getInputProps('email')}
                />
              </>
            ) : null}
            {record.error ? <ProblemAlert error={record.error} /> : null}
            <Group>
              <Button type="submit" loading={record.isPending}>
                {t('consents.record')}
              </Button>
            </Group>
          </Stack>
        </form>
      </Stack>
    </Card>
  );
}
