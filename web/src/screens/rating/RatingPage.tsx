import './messages.js';
import {
  Button,
  Card,
  Checkbox,
  Group,
  Modal,
  Stack,
  Table,
  Text,
  TextInput,
  Textarea,
  Title,
} from '@mantine/core';
import { useForm } from '@mantine/form';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import type { ColumnDef } from '@tanstack/react-table';
import { useMemo, useState } from 'react';
import { useTranslation } from 'react-i18next';
import { useCan } from '../../api/auth.js';
import { api } from '../../api/client.js';
import { currentLanguage } from '../../i18n/index.js';
import { DataTable } from '../../ui/DataTable.js';
import { notifySuccess } from '../../ui/notify.js';
import { ProblemAlert } from '../../ui/ProblemAlert.js';
import { TabbedScreen } from '../../ui/TabbedScreen.js';
import { ImportReasons, ImportStatusBadge, type CallImport } from '../telephony/import-parts.js';
import { formatDay, formatMoment } from '../../ui/dates.js';

interface PlanDefinition {
  timeBands?: unknown[];
  prices?: unknown[];
  included?: unknown[];
  onNetFree?: boolean;
}

interface Plan {
  planId: number;
  code: string;
  name: string;
  definition: PlanDefinition;
}

interface PlanDetail extends Plan {
  createdAt: string;
  assignments: Array<{ productId: number | null; validFrom: string }>;
}

interface TariffRate {
  prefix: string;
  group: string | null;
  groupLabel: string | null;
  validFrom: string;
  validTo: string | null;
  pricePerMinuteMicros: number;
}

function when(iso: string): string {
  return formatMoment(iso);
}

function euros(micros: number): string {
  return new Intl.NumberFormat(`${currentLanguage()}-BE`, {
    style: 'currency',
    currency: 'EUR',
    maximumFractionDigits: 4,
  }).format(micros / 1_000_000);
}

/** Imports that need a look: failed, interrupted, or with rejected lines (the start page counts them). */
export function importsQuery(problems: boolean) {
  return {
    queryKey: ['call-imports', problems],
    queryFn: async () =>
      api<{ items: CallImport[]; nextCursor: string | null }>('GET', '/api/v1/call-record-imports', {
        query: { limit: 200, ...(problems ? { problems: true } : {}) },
      }),
  };
}

/**
 * Call-record imports with their counts and why one failed, the rating plans (list, create, make
 * the default) and the price list: no personal data, so no purpose (decision 0331).
 */
export function RatingScreen() {
  const { t } = useTranslation();
  // Each tab for the roles its routes allow (decision 0845).
  const can = useCan();
  return (
    <TabbedScreen
      title={t('rating.title')}
      tabs={[
        ...(can('callImports') ? [{ value: 'imports', label: t('rating.imports'), panel: <Imports /> }] : []),
        ...(can('tariffs')
          ? [
              { value: 'plans', label: t('rating.plans'), panel: <Plans /> },
              { value: 'tariff', label: t('rating.tariff'), panel: <Tariff /> },
            ]
          : []),
      ]}
    />
  );
}

function Imports() {
  const { t } = useTranslation();
  const [problems, setProblems] = useState(false);
  const imports = useQuery(importsQuery(problems));
  const columns = useMemo<ColumnDef<CallImport, unknown>[]>(
    () => [
      { accessorKey: 'fileName', header: t('rating.file') },
      {
        accessorKey: 'startedAt',
        header: t('rating.started'),
        cell: (info) => when(info.row.original.startedAt),
      },
      {
        accessorKey: 'status',
        header: t('rating.status'),
        cell: (info) => <ImportStatusBadge item={info.row.original} />,
      },
      { accessorKey: 'linesRead', header: t('rating.linesRead') },
      { accessorKey: 'imported', header: t('rating.imported') },
      { accessorKey: 'rejected', header: t('rating.rejected') },
      { accessorKey: 'duplicates', header: t('rating.duplicates') },
      { accessorKey: 'unrated', header: t('rating.unrated') },
      {
        id: 'why',
        header: t('rating.why'),
        enableSorting: false,
        cell: (info) => <ImportReasons item={info.row.original} />,
      },
    ],
    [t],
  );
  return (
    <Stack>
      <Text size="sm" c="dimmed">
        {t('rating.importsIntro')}
      </Text>
      <Checkbox
        label={t('rating.onlyProblems')}
        checked={problems}
        onChange={(event) => setProblems(event.currentTarget.checked)}
      />
      {imports.error ? <ProblemAlert error={imports.error} /> : null}
      {imports.data && imports.data.items.length === 0 ? <Text>{t('rating.noImports')}</Text> : null}
      {imports.data && imports.data.items.length > 0 ? (
        <DataTable
          data={imports.data.items}
          columns={columns}
          caption={t('rating.importsCaption')}
          rowTestId={(row) => `import-${row.importId}`}
        />
      ) : null}
    </Stack>
  );
}

const EXAMPLE_DEFINITION = JSON.stringify(
  {
    timeBands: [{ band: 'off_peak', days: [1, 2, 3, 4, 5], from: '19:00', to: '24:00' }],
    prices: [{ group: '*', band: 'off_peak', pricePerMinute: '0.02' }],
    included: [],
    onNetFree: false,
  },
  null,
  2,
);

function Plans() {
  const { t } = useTranslation();
  const queryClient = useQueryClient();
  const [creating, setCreating] = useState(false);
  const [shown, setShown] = useState<number | null>(null);
  const plans = useQuery({
    queryKey: ['rating-plans'],
    queryFn: async () =>
      (await api<{ items: Plan[] }>('GET', '/api/v1/rating-plans', { query: { limit: 200 } })).items,
  });
  const columns = useMemo<ColumnDef<Plan, unknown>[]>(
    () => [
      { accessorKey: 'code', header: t('rating.code') },
      { accessorKey: 'name', header: t('rating.name') },
      {
        id: 'bands',
        header: t('rating.bands'),
        accessorFn: (plan) => plan.definition.timeBands?.length ?? 0,
      },
      { id: 'prices', header: t('rating.prices'), accessorFn: (plan) => plan.definition.prices?.length ?? 0 },
      {
        id: 'included',
        header: t('rating.included'),
        accessorFn: (plan) => plan.definition.included?.length ?? 0,
      },
      {
        id: 'onNetFree',
        header: t('rating.onNetFree'),
        accessorFn: (plan) => (plan.definition.onNetFree ? t('rating.yes') : t('rating.no')),
      },
    ],
    [t],
  );
  return (
    <Stack>
      <Text size="sm" c="dimmed">
        {t('rating.plansIntro')}
      </Text>
      <Group>
        <Button onClick={() => setCreating(true)}>{t('rating.newPlan')}</Button>
      </Group>
      {plans.error ? <ProblemAlert error={plans.error} /> : null}
      {plans.data && plans.data.length > 0 ? (
        <DataTable
          data={plans.data}
          columns={columns}
          caption={t('rating.plansCaption')}
          onRowClick={(plan) => setShown(plan.planId)}
          rowTestId={(plan) => `plan-${plan.code}`}
        />
      ) : null}
      {shown !== null ? <PlanCard planId={shown} /> : null}
      <Modal
        opened={creating}
        onClose={() => setCreating(false)}
        title={t('rating.newPlan')}
        size="lg"
        closeButtonProps={{ 'aria-label': t('common.close') }}
      >
        <NewPlan
          onCreated={async (plan) => {
            setCreating(false);
            setShown(plan.planId);
            await queryClient.invalidateQueries({ queryKey: ['rating-plans'] });
          }}
        />
      </Modal>
    </Stack>
  );
}

function NewPlan({ onCreated }: { onCreated: (plan: Plan) => Promise<void> }) {
  const { t } = useTranslation();
  const form = useForm({
    initialValues: { code: '', name: '', definition: EXAMPLE_DEFINITION },
    validate: {
      code: (value) => (/^[A-Za-z0-9][A-Za-z0-9._-]{0,39}$/.test(value) ? null : t('rating.codeHelp')),
      name: (value) => (value.trim().length > 0 && value.length <= 80 ? null : t('rating.nameHelp')),
      definition: (value) => {
        try {
          JSON.parse(value);
          return null;
        } catch {
          return t('rating.definitionInvalid');
        }
      },
    },
  });
  const create = useMutation({
    mutationFn: (values: { code: string; name: string; definition: string }) =>
      api<Plan>('POST', '/api/v1/rating-plans', {
        body: { code: values.code, name: values.name, definition: JSON.parse(values.definition) as unknown },
      }),
    onSuccess: async (plan) => {
      notifySuccess(t('rating.created', { code: plan.code }));
      await onCreated(plan);
    },
  });
  return (
    <form onSubmit={form.onSubmit((values) => create.mutate(values))} noValidate>
      <Stack>
        <TextInput
          label={t('rating.code')}
          description={t('rating.codeHelp')}
          required
          {...form.getInputProps('code')}
        />
        <TextInput
          label={t('rating.name')}
          description={t('rating.nameHelp')}
          required
          {...form.getInputProps('name')}
        />
        <Textarea
          label={t('rating.definition')}
          description={t('rating.definitionHelp')}
          autosize
          minRows={8}
          styles={{ input: { fontFamily: 'monospace' } }}
          {...form.getInputProps('definition')}
        />
        {create.error ? <ProblemAlert error={create.error} /> : null}
        <Group justify="flex-end">
          <Button type="submit" loading={create.isPending}>
            {t('rating.create')}
          </Button>
        </Group>
      </Stack>
    </form>
  );
}

function PlanCard({ planId }: { planId: number }) {
  const { t } = useTranslation();
  const queryClient = useQueryClient();
  const plan = useQuery({
    queryKey: ['rating-plans', planId],
    queryFn: () => api<PlanDetail>('GET', `/api/v1/rating-plans/${planId}`),
  });
  const form = useForm({
    initialValues: { validFrom: '' },
    validate: { validFrom: (value) => (/^\d{4}-\d{2}-\d{2}$/.test(value) ? null : t('common.required')) },
  });
  const assign = useMutation({
    mutationFn: (values: { validFrom: string }) =>
      api<{ validFrom: string }>('POST', `/api/v1/rating-plans/${planId}/assignments`, {
        body: { productId: null, validFrom: values.validFrom },
      }),
    onSuccess: async (result) => {
      notifySuccess(t('rating.assigned', { day: formatDay(result.validFrom) }));
      form.reset();
      await queryClient.invalidateQueries({ queryKey: ['rating-plans', planId] });
    },
  });
  if (plan.error) return <ProblemAlert error={plan.error} />;
  if (!plan.data) return null;
  return (
    <Card withBorder data-testid="plan-detail">
      <Stack gap="sm">
        <Title order={2} size="h4">
          {t('rating.planTitle', { code: plan.data.code })} — {plan.data.name}
        </Title>
        <Text size="sm" fw={600}>
          {t('rating.appliesTo')}
        </Text>
        {plan.data.assignments.length === 0 ? <Text size="sm">{t('rating.notAssigned')}</Text> : null}
        {plan.data.assignments.length > 0 ? (
          <Table>
            <Table.Caption>{t('rating.appliesTo')}</Table.Caption>
            <Table.Thead>
              <Table.Tr>
                <Table.Th>{t('rating.appliesTo')}</Table.Th>
                <Table.Th>{t('rating.validFrom')}</Table.Th>
              </Table.Tr>
            </Table.Thead>
            <Table.Tbody>
              {plan.data.assignments.map((assignment) => (
                <Table.Tr key={`${assignment.productId ?? 0}-${assignment.validFrom}`}>
                  <Table.Td>
                    {assignment.productId === null
                      ? t('rating.tenantDefault')
                      : t('rating.product', { id: assignment.productId })}
                  </Table.Td>
                  <Table.Td>{formatDay(assignment.validFrom)}</Table.Td>
                </Table.Tr>
              ))}
            </Table.Tbody>
          </Table>
        ) : null}
        <form onSubmit={form.onSubmit((values) => assign.mutate(values))} noValidate>
          <Group align="flex-end">
            <TextInput
              type="date"
              label={t('rating.validFrom')}
              description={t('rating.validFromHelp')}
              required
              {...form.getInputProps('validFrom')}
            />
            <Button type="submit" loading={assign.isPending}>
              {t('rating.makeDefault')}
            </Button>
          </Group>
          {assign.error ? <ProblemAlert error={assign.error} /> : null}
        </form>
      </Stack>
    </Card>
  );
}

function Tariff() {
  const { t } = useTranslation();
  const rates = useQuery({
    queryKey: ['tariffs'],
    queryFn: async () =>
      (await api<{ items: TariffRate[] }>('GET', '/api/v1/tariffs', { query: { limit: 1000 } })).items,
  });
  const columns = useMemo<ColumnDef<TariffRate, unknown>[]>(
    () => [
      { accessorKey: 'prefix', header: t('rating.prefix') },
      { id: 'group', header: t('rating.group'), accessorFn: (rate) => rate.groupLabel ?? rate.group ?? '' },
      {
        accessorKey: 'pricePerMinuteMicros',
        header: t('rating.perMinute'),
        cell: (info) => euros(info.row.original.pricePerMinuteMicros),
      },
      {
        id: 'validity',
        header: t('rating.validity'),
        accessorFn: (rate) =>
          `${rate.validFrom.slice(0, 10)} – ${rate.validTo ? rate.validTo.slice(0, 10) : '…'}`,
      },
    ],
    [t],
  );
  if (rates.error) return <ProblemAlert error={rates.error} />;
  if (!rates.data) return null;
  if (rates.data.length === 0) return <Text>{t('rating.noTariff')}</Text>;
  return <DataTable data={rates.data} columns={columns} caption={t('rating.tariffCaption')} />;
}
