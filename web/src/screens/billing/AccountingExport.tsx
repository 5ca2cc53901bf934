import './messages.js';
import { Alert, Button, Card, Group, Stack, Text, TextInput, Title } from '@mantine/core';
import { useForm } from '@mantine/form';
import { useMutation } from '@tanstack/react-query';
import { useTranslation } from 'react-i18next';
import { fetchBlob, saveBlob } from '../../api/client.js';
import { PurposePicker, useScreenPurpose } from '../../purposes/usePurpose.js';
import { ProblemAlert } from '../../ui/ProblemAlert.js';
import { brusselsLastMonth } from '../../ui/dates.js';

const DAY = /^\d{4}-\d{2}-\d{2}$/;

/** Last month's first and last day, the period a bookkeeper asks for most. */
function lastMonthPeriod(): { from: string; to: string } {
  const { from, to } = brusselsLastMonth();
  return { from, to };
}

/**
 * The bookkeeper's CSV of a period (GET /api/v1/accounting/export), under the role's purpose that
 * covers payment and bank data for the legal obligation (decision 0170: picked by what it covers).
 */
export function AccountingExport() {
  const { t } = useTranslation();
  const purpose = useScreenPurpose('accounting');
  const form = useForm({
    initialValues: lastMonthPeriod(),
    validate: {
      from: (value) => (DAY.test(value) ? null : t('common.required')),
      to: (value, values) =>
        !DAY.test(value) ? t('common.required') : value < values.from ? t('dunning.badPeriod') : null,
    },
  });
  const download = useMutation({
    mutationFn: async (values: { from: string; to: string }) => {
      const blob = await fetchBlob('/api/v1/accounting/export', {
        purpose: purpose.purpose,
        query: values,
      });
      const file = `accounting-${values.from}-${values.to}.csv`;
      saveBlob(blob, file);
      return file;
    },
  });
  return (
    <Card withBorder maw={720}>
      <form onSubmit={form.onSubmit((values) => download.mutate(values))} noValidate>
        <Stack gap="sm">
          <Title order={2} size="h4">
            {t('dunning.exportTitle')}
          </Title>
          <Text size="sm" c="dimmed">
            {t('dunning.exportHelp')}
          </Text>
          <PurposePicker state={purpose} />
          <Group align="flex-end">
            <TextInput type="date" label={t('dunning.from')} required {...form.getInputProps('from')} />
            <TextInput type="date" label={t('dunning.to')} required {...form.getInputProps('to')} />
            <Button type="submit" loading={download.isPending} disabled={!purpose.purpose}>
              {t('dunning.exportSubmit')}
            </Button>
          </Group>
          {download.error ? <ProblemAlert error={download.error} /> : null}
          {download.data ? (
            <Alert color="green" data-testid="export-done">
              {t('dunning.exportDone', { file: download.data })}
            </Alert>
          ) : null}
        </Stack>
      </form>
    </Card>
  );
}
