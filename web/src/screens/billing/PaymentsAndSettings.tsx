import {
  Alert,
  Button,
  Card,
  FileInput,
  Group,
  NumberInput,
  SimpleGrid,
  Stack,
  Switch,
  Text,
  Textarea,
  TextInput,
  Title,
} from '@mantine/core';
import { useForm } from '@mantine/form';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useState } from 'react';
import { useTranslation } from 'react-i18next';
import { api, ApiError, newIdempotencyKey } from '../../api/client.js';
import { notifySuccess } from '../../ui/notify.js';
import { ProblemAlert } from '../../ui/ProblemAlert.js';
import './messages.js';

interface PaymentSummary {
  lines: number;
  imported: number;
  duplicates: number;
  matched: number;
  unmatched: number;
  outgoing: number;
  overpaid: string[];
  partiallyPaid: string[];
}

/** A bank statement as CSV (date, amount, communication, reference), matched by structured communication. */
export function PaymentsImport({ purpose }: { purpose: string | undefined }) {
  const { t } = useTranslation();
  const queryClient = useQueryClient();
  const [csv, setCsv] = useState('');
  const [key, setKey] = useState(newIdempotencyKey);
  const upload = useMutation({
    mutationFn: (data: string) =>
      api<PaymentSummary>('POST', '/api/v1/payments/import', {
        purpose,
        idempotencyKey: key,
        raw: { contentType: 'text/csv', data },
      }),
    onSuccess: async () => {
      setKey(newIdempotencyKey());
      await queryClient.invalidateQueries({ queryKey: ['invoices'] });
    },
  });
  const result = upload.data;
  return (
    <Stack maw={720}>
      <Text size="sm" c="dimmed">
        {t('payments.intro')}
      </Text>
      <FileInput
        label={t('payments.file')}
        accept=".csv,text/csv"
        clearable
        onChange={(file) => {
          if (file) void file.text().then(setCsv);
        }}
      />
      <Textarea
        label={t('payments.csv')}
        description={t('payments.csvHelp')}
        autosize
        minRows={4}
        maxRows={12}
        value={csv}
        onChange={(event) => setCsv(event.currentTarget.value)}
        styles={{ input: { fontFamily: 'monospace' } }}
      />
      {upload.error ? <ProblemAlert error={upload.error} /> : null}
      <Group>
        <Button disabled={!csv.trim()} loading={upload.isPending} onClick={() => upload.mutate(csv)}>
          {t('payments.submit')}
        </Button>
      </Group>
      {result ? (
        <Alert color="green" title={t('payments.done')} data-testid="payments-result">
          <SimpleGrid cols={2} spacing={4}>
            <Text size="sm">{t('payments.lines')}</Text>
            <Text size="sm">{result.lines}</Text>
            <Text size="sm">{t('payments.imported')}</Text>
            <Text size="sm">{result.imported}</Text>
            <Text size="sm">{t('payments.matched')}</Text>
            <Text size="sm">{result.matched}</Text>
            <Text size="sm">{t('payments.unmatched')}</Text>
            <Text size="sm">{result.unmatched}</Text>
            <Text size="sm">{t('payments.duplicates')}</Text>
            <Text size="sm">{result.duplicates}</Text>
            <Text size="sm">{t('payments.partiallyPaid')}</Text>
            <Text size="sm">{result.partiallyPaid.join(', ') || '—'}</Text>
            <Text size="sm">{t('payments.overpaid')}</Text>
            <Text size="sm">{result.overpaid.join(', ') || '—'}</Text>
          </SimpleGrid>
        </Alert>
      ) : null}
    </Stack>
  );
}

interface Settings {
  payeeIban: string;
  payeeBic: string | null;
  paymentTermDays: number;
  sepaCreditorId: string | null;
  /** The dunning schedule (decision 0300): days after the due date. */
  reminders?: {
    enabled: boolean;
    firstReminderDays: number;
    secondReminderDays: number;
    formalNoticeDays: number;
  };
}

/** The provider's payee account and payment terms (admin and billing may change them). */
export function BillingSettings() {
  const queryClient = useQueryClient();
  const settings = useQuery({
    queryKey: ['billing-settings'],
    queryFn: async () => {
      try {
        return await api<Settings>('GET', '/api/v1/billing/settings');
      } catch (error) {
        // Not set yet: the form starts empty.
        if (error instanceof ApiError && error.status === 404) return null;
        throw error;
      }
    },
  });
  if (settings.isPending) return null;
  if (settings.error) return <ProblemAlert error={settings.error} />;
  return (
    <SettingsForm
      key={JSON.stringify(settings.data)}
      initial={settings.data}
      onSaved={() => void queryClient.invalidateQueries({ queryKey: ['billing-settings'] })}
    />
  );
}

function SettingsForm({ initial, onSaved }: { initial: Settings | null; onSaved: () => void }) {
  const { t } = useTranslation();
  const form = useForm({
    initialValues: {
      payeeIban: initial?.payeeIban ?? '',
      payeeBic: initial?.payeeBic ?? '',
      paymentTermDays: initial?.paymentTermDays ?? 30,
      sepaCreditorId: initial?.sepaCreditorId ?? '',
      remindersEnabled: initial?.reminders?.enabled ?? true,
      firstReminderDays: initial?.reminders?.firstReminderDays ?? 14,
      secondReminderDays: initial?.reminders?.secondReminderDays ?? 28,
      formalNoticeDays: initial?.reminders?.formalNoticeDays ?? 42,
    },
    validate: {
      payeeIban: (value) => (value.trim() ? null : t('common.required')),
      secondReminderDays: (value, values) =>
        Number(value) > Number(values.firstReminderDays) ? null : t('dunning.daysOrder'),
      formalNoticeDays: (value, values) =>
        Number(value) > Number(values.secondReminderDays) ? null : t('dunning.daysOrder'),
    },
  });
  const save = useMutation({
    mutationFn: (values: typeof form.values) =>
      api<Settings>('PUT', '/api/v1/billing/settings', {
        body: {
          payeeIban: values.payeeIban,
          payeeBic: values.payeeBic.trim() || null,
          paymentTermDays: Number(values.paymentTermDays),
          sepaCreditorId: values.sepaCreditorId.trim() || null,
          reminders: {
            enabled: values.remindersEnabled,
            firstReminderDays: Number(values.firstReminderDays),
            secondReminderDays: Number(values.secondReminderDays),
            formalNoticeDays: Number(values.formalNoticeDays),
          },
        },
      }),
    onSuccess: () => {
      notifySuccess(t('settings.saved'));
      onSaved();
    },
  });
  return (
    <Card withBorder maw={720}>
      <form onSubmit={form.onSubmit((values) => save.mutate(values))} noValidate>
        <Stack gap="sm">
          <Title order={2} size="h4">
            {t('settings.billing')}
          </Title>
          <Text size="sm" c="dimmed">
            {t('settings.billingHelp')}
          </Text>
          <TextInput label={t('settings.iban')} required {...form.getInputProps('payeeIban')} />
          <TextInput
            label={t('settings.bic')}
            description={t('settings.bicHelp')}
            {...form.getInputProps('payeeBic')}
          />
          <NumberInput
            label={t('settings.term')}
            min={0}
            max={120}
            allowDecimal={false}
            {...form.getInputProps('paymentTermDays')}
          />
          <TextInput
            label={t('settings.creditorId')}
            description={t('settings.creditorIdHelp')}
            {...form.getInputProps('sepaCreditorId')}
          />
          <Title order={3} size="h5">
            {t('dunning.remindersSettings')}
          </Title>
          <Switch
            label={t('dunning.remindersOn')}
            {...form.getInputProps('remindersEnabled', { type: 'checkbox' })}
          />
          <Group align="flex-start" grow>
            {(['firstReminderDays', 'secondReminderDays', 'formalNoticeDays'] as const).map((field) => (
              <NumberInput
                key={field}
                label={t(
                  field === 'firstReminderDays'
                    ? 'dunning.firstDays'
                    : field === 'secondReminderDays'
                      ? 'dunning.secondDays'
                      : 'dunning.formalDays',
                )}
                min={1}
                max={730}
                allowDecimal={false}
                disabled={!form.values.remindersEnabled}
                {...form.getInputProps(field)}
              />
            ))}
          </Group>
          {save.error ? (
            <ProblemAlert
              error={save.error}
              fields={{
                payeeIban: t('settings.iban'),
                payeeBic: t('settings.bic'),
                paymentTermDays: t('settings.term'),
                sepaCreditorId: t('settings.creditorId'),
                reminders: t('dunning.remindersSettings'),
              }}
            />
          ) : null}
          <Group>
            <Button type="submit" loading={save.isPending}>
              {t('common.save')}
            </Button>
          </Group>
        </Stack>
      </form>
    </Card>
  );
}
