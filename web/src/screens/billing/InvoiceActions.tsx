import { Alert, Button, Card, Group, NumberInput, Select, Stack, Text, Textarea, Title } from '@mantine/core';
import { useForm } from '@mantine/form';
import { useMutation, useQueryClient } from '@tanstack/react-query';
import { useState } from 'react';
import { useTranslation } from 'react-i18next';
import { api, newIdempotencyKey } from '../../api/client.js';
import { notifySuccess } from '../../ui/notify.js';
import { ProblemAlert } from '../../ui/ProblemAlert.js';

/** Reasons for a credit note, chosen from a labelled list (the code goes on the credit note). */
export const CREDIT_REASONS = [
  'billing_error',
  'price_correction',
  'service_outage',
  'contract_ended',
  'goodwill',
] as const;

interface CreditValues {
  reasonCode: string;
  whole: string;
  amountEuros: number | string;
}

/** Credit an invoice wholly or partly, and open or settle a dispute on it. */
export function InvoiceActions({
  invoiceId,
  invoiceNumber,
  kind,
  purpose,
  disputeOnly = false,
}: {
  invoiceId: number;
  invoiceNumber: string;
  kind: 'invoice' | 'credit_note';
  purpose: string | undefined;
  /** Under the books' purpose only a dispute is recorded or settled (decisions 0950, 1031). */
  disputeOnly?: boolean;
}) {
  const { t } = useTranslation();
  const queryClient = useQueryClient();
  const [key, setKey] = useState(newIdempotencyKey);
  const credit = useForm<CreditValues>({
    initialValues: { reasonCode: 'billing_error', whole: 'whole', amountEuros: '' },
    validate: {
      amountEuros: (value, values) =>
        values.whole === 'whole' || (typeof value === 'number' && value > 0)
          ? null
          : t('billing.amountPositive'),
    },
  });
  const creditNote = useMutation({
    mutationFn: (values: CreditValues) =>
      api<{ invoiceNumber: string }>('POST', `/api/v1/invoices/${invoiceId}/credit-notes`, {
        purpose,
        idempotencyKey: key,
        body: {
          reasonCode: values.reasonCode,
          ...(values.whole === 'part' && typeof values.amountEuros === 'number'
            ? { amountExclVatCents: Math.round(values.amountEuros * 100) }
            : {}),
        },
      }),
    onSuccess: async (note) => {
      setKey(newIdempotencyKey());
      notifySuccess(t('billing.credited', { number: note.invoiceNumber }));
      await queryClient.invalidateQueries({ queryKey: ['invoices'] });
    },
  });
  const dispute = useForm({
    initialValues: { reason: '' },
    validate: { reason: (value) => (value.trim().length >= 3 ? null : t('billing.disputeReasonLength')) },
  });
  const openDispute = useMutation({
    mutationFn: (reason: string) =>
      api('POST', `/api/v1/invoices/${invoiceId}/dispute`, { purpose, body: { reason } }),
    onSuccess: () => notifySuccess(t('billing.disputed', { number: invoiceNumber })),
  });
  const settle = useMutation({
    mutationFn: () => api('DELETE', `/api/v1/invoices/${invoiceId}/dispute`, { purpose }),
    onSuccess: () => notifySuccess(t('billing.settled', { number: invoiceNumber })),
  });
  if (kind === 'credit_note') return null;
  return (
    <Stack>
      {disputeOnly ? null : (
        <Card withBorder>
          <form onSubmit={credit.onSubmit((values) => creditNote.mutate(values))} noValidate>
            <Stack gap="sm">
              <Title order={2} size="h4">
                {t('billing.creditTitle')}
              </Title>
              <Group align="flex-end">
                <Select
                  label={t('billing.creditReason')}
                  allowDeselect={false}
                  data={CREDIT_REASONS.map((reason) => ({
                    value: reason,
                    label: t(`creditReason.${reason}`),
                  }))}
                  {...credit.getInputProps('reasonCode')}
                />
                <Select
                  label={t('billing.creditScope')}
                  allowDeselect={false}
                  data={[
                    { value: 'whole', label: t('billing.creditWhole') },
                    { value: 'part', label: t('billing.creditPart') },
                  ]}
                  {...credit.getInputProps('whole')}
                />
                {credit.values.whole === 'part' ? (
                  <NumberInput
                    label={t('billing.creditAmount')}
                    min={0.01}
                    decimalScale={2}
                    {...credit.getInputProps('amountEuros')}
                  />
                ) : null}
              </Group>
              {creditNote.error ? <ProblemAlert error={creditNote.error} /> : null}
              {creditNote.data ? (
                <Alert color="green" data-testid="credit-note">
                  {t('billing.credited', { number: creditNote.data.invoiceNumber })}
                </Alert>
              ) : null}
              <Group>
                <Button type="submit" loading={creditNote.isPending}>
                  {t('billing.creditSubmit')}
                </Button>
              </Group>
            </Stack>
          </form>
        </Card>
      )}
      <Card withBorder>
        <form onSubmit={dispute.onSubmit((values) => openDispute.mutate(values.reason))} noValidate>
          <Stack gap="sm">
            <Title order={2} size="h4">
              {t('billing.disputeTitle')}
            </Title>
            <Text size="sm" c="dimmed">
              {t('billing.disputeHelp')}
            </Text>
            <Textarea
              label={t('billing.disputeReason')}
              autosize
              minRows={2}
              {...dispute.getInputProps('reason')}
            />
            {openDispute.error ? <ProblemAlert error={openDispute.error} /> : null}
            {settle.error ? <ProblemAlert error={settle.error} /> : null}
            <Group>
              <Button type="submit" variant="default" loading={openDispute.isPending}>
                {t('billing.disputeSubmit')}
              </Button>
              <Button variant="default" loading={settle.isPending} onClick={() => settle.mutate()}>
                {t('billing.settle')}
              </Button>
            </Group>
          </Stack>
        </form>
      </Card>
    </Stack>
  );
}
