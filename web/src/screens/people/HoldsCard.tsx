import { Badge, Button, Card, Group, Stack, Table, Text, TextInput, Title } from '@mantine/core';
import { useForm } from '@mantine/form';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useTranslation } from 'react-i18next';
import { useMyPurposes } from '../../api/auth.js';
import { api } from '../../api/client.js';
import { notifySuccess } from '../../ui/notify.js';
import { ProblemAlert } from '../../ui/ProblemAlert.js';
import { formatDay } from '../../ui/dates.js';

interface LegalHold {
  holdId: number;
  reason: string;
  endsOn: string;
  placedAt: string;
  active: boolean;
  caseId: number | null;
}

/**
 * Legal holds on a person (retention erases nothing of them until the hold ends): shown to the
 * roles that hold the rights-requests purpose, which the retention routes act under by default.
 */
export function HoldsCard({ subjectId }: { subjectId: number }) {
  const { t } = useTranslation();
  const queryClient = useQueryClient();
  const purposes = useMyPurposes();
  const allowed = purposes.data?.purposes.some((purpose) => purpose.key === 'rights_requests') ?? false;
  const holds = useQuery({
    queryKey: ['holds', subjectId],
    enabled: allowed,
    queryFn: async () =>
      (await api<{ items: LegalHold[] }>('GET', '/api/v1/retention/holds', { query: { subjectId } })).items,
  });
  const form = useForm({
    initialValues: { reason: '', endsOn: '' },
    validate: {
      reason: (value) => (value.trim().length >= 3 ? null : t('holds.reasonLength')),
      endsOn: (value) => (/^\d{4}-\d{2}-\d{2}$/.test(value) ? null : t('common.required')),
    },
  });
  const refresh = () => queryClient.invalidateQueries({ queryKey: ['holds', subjectId] });
  const place = useMutation({
    mutationFn: (values: { reason: string; endsOn: string }) =>
      api('POST', '/api/v1/retention/holds', { body: { subjectId, ...values } }),
    onSuccess: async () => {
      notifySuccess(t('holds.placed'));
      form.reset();
      await refresh();
    },
  });
  const release = useMutation({
    mutationFn: (holdId: number) => api('POST', `/api/v1/retention/holds/${holdId}/release`),
    onSuccess: async () => {
      notifySuccess(t('holds.released'));
      await refresh();
    },
  });
  if (!allowed) return null;
  return (
    <Card withBorder data-testid="holds">
      <Stack gap="sm">
        <Title order={2} size="h4">
          {t('holds.title')}
        </Title>
        <Text size="sm" c="dimmed">
          {t('holds.intro')}
        </Text>
        {holds.error ? <ProblemAlert error={holds.error} /> : null}
        {release.error ? <ProblemAlert error={release.error} /> : null}
        {holds.data && holds.data.length > 0 ? (
          <Table>
            <Table.Caption>{t('holds.caption')}</Table.Caption>
            <Table.Thead>
              <Table.Tr>
                <Table.Th>{t('holds.reason')}</Table.Th>
                <Table.Th>{t('holds.endsOn')}</Table.Th>
                <Table.Th>{t('holds.state')}</Table.Th>
                <Table.Th>{t('common.actions')}</Table.Th>
              </Table.Tr>
            </Table.Thead>
            <Table.Tbody>
              {holds.data.map((hold) => (
                <Table.Tr key={hold.holdId} data-testid={`hold-${hold.holdId}`}>
                  <Table.Td>{hold.reason}</Table.Td>
                  <Table.Td>{formatDay(hold.endsOn)}</Table.Td>
                  <Table.Td>
                    <Badge color={hold.active ? 'indigo.8' : 'gray.7'} tt="none">
                      {hold.active ? t('holds.active') : t('holds.ended')}
                    </Badge>
                  </Table.Td>
                  <Table.Td>
                    {hold.active && hold.caseId === null ? (
                      <Button size="compact-sm" variant="default" onClick={() => release.mutate(hold.holdId)}>
                        {t('holds.release')}
                      </Button>
                    ) : null}
                  </Table.Td>
                </Table.Tr>
              ))}
            </Table.Tbody>
          </Table>
        ) : null}
        <form onSubmit={form.onSubmit((values) => place.mutate(values))} noValidate>
          <Group align="flex-end">
            <TextInput
              label={t('holds.reason')}
              description={t('holds.reasonHelp')}
              required
              w={360}
              {...form.getInputProps('reason')}
            />
            <TextInput type="date" label={t('holds.endsOn')} required {...form.getInputProps('endsOn')} />
            <Button type="submit" loading={place.isPending}>
              {t('holds.place')}
            </Button>
          </Group>
          {place.error ? <ProblemAlert error={place.error} /> : null}
        </form>
      </Stack>
    </Card>
  );
}
