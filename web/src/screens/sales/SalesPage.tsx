import {
  Button,
  Card,
  Group,
  Modal,
  NumberInput,
  Select,
  Stack,
  Tabs,
  Text,
  TextInput,
  Title,
} from '@mantine/core';
import { useForm } from '@mantine/form';
import { useDebouncedValue, useDisclosure } from '@mantine/hooks';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import type { ColumnDef } from '@tanstack/react-table';
import { useMemo, useState } from 'react';
import { useTranslation } from 'react-i18next';
import { useCan, useMyPurposes } from '../../api/auth.js';
import { api } from '../../api/client.js';
import { currentLanguage } from '../../i18n/index.js';
import { PurposePicker, useScreenPurpose, type ScreenPurpose } from '../../purposes/usePurpose.js';
import { DataTable } from '../../ui/DataTable.js';
import { notifySuccess } from '../../ui/notify.js';
import { ProblemAlert } from '../../ui/ProblemAlert.js';
import { fullName, type Person } from '../people/PeoplePage.js';
import { salesLabel } from './label.js';
import { allPages, euros, useProducts, type Contract, type Order, type Quote } from './api.js';
import { customerColumn, numberColumn, RowAction, statusColumn, totalColumn } from './sales-table.js';
import { addDays, brusselsToday, dayCell } from '../../ui/dates.js';

// The business's calendar day (Brussels), not UTC's: they differ between 00:00 and 01:00/02:00.
const today = (): string => brusselsToday();
const inDays = (days: number): string => addDays(brusselsToday(), days);

/** Quotes → orders → contracts, and termination, each under the purpose that fits it. */
export function SalesPage() {
  const { t } = useTranslation();
  // Quotes and orders only where the server names them for the role (decision 0845).
  const can = useCan();
  const [tab, setTab] = useState<string | null>(
    can('quotes') ? 'quotes' : can('orders') ? 'orders' : 'contracts',
  );
  return (
    <Stack>
      <Title order={1}>{t(salesLabel(can))}</Title>
      <Tabs value={tab} onChange={setTab} keepMounted={false}>
        <Tabs.List>
          {can('quotes') ? <Tabs.Tab value="quotes">{t('sales.quotes')}</Tabs.Tab> : null}
          {can('orders') ? <Tabs.Tab value="orders">{t('sales.orders')}</Tabs.Tab> : null}
          <Tabs.Tab value="contracts">{t('sales.contracts')}</Tabs.Tab>
          <Tabs.Tab value="catalogue">{t('nav.catalogue')}</Tabs.Tab>
        </Tabs.List>
        {can('quotes') ? (
          <Tabs.Panel value="quotes" pt="md">
            <QuotesTab onOrdered={() => setTab(can('orders') ? 'orders' : 'quotes')} />
          </Tabs.Panel>
        ) : null}
        {can('orders') ? (
          <Tabs.Panel value="orders" pt="md">
            <OrdersTab onContracted={() => setTab('contracts')} />
          </Tabs.Panel>
        ) : null}
        <Tabs.Panel value="contracts" pt="md">
          <ContractsTab />
        </Tabs.Panel>
        <Tabs.Panel value="catalogue" pt="md">
          <CatalogueTab />
        </Tabs.Panel>
      </Tabs>
    </Stack>
  );
}

function useAction<T>(invalidate: string[]) {
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: (call: { path: string; purpose: string | undefined; body?: unknown; done: string }) =>
      api<T>('POST', call.path, { purpose: call.purpose, body: call.body ?? {} }),
    onSuccess: async (_answer, call) => {
      notifySuccess(call.done);
      for (const key of invalidate) await queryClient.invalidateQueries({ queryKey: [key] });
    },
  });
}

function CatalogueTab() {
  const { t } = useTranslation();
  const products = useProducts();
  const columns = useMemo<ColumnDef<(typeof rows)[number], unknown>[]>(
    () => [
      { id: 'code', header: t('sales.code'), accessorKey: 'code' },
      { id: 'name', header: t('sales.product'), accessorKey: 'name' },
      { id: 'kind', header: t('sales.kind'), accessorFn: (row) => t(`productKind.${row.kind}`) },
      {
        id: 'price',
        header: t('sales.price'),
        accessorKey: 'priceCents',
        cell: ({ row }) => euros(row.original.priceCents, currentLanguage()),
      },
      { id: 'vat', header: t('sales.vat'), accessorFn: (row) => `${row.vatRatePercent} %` },
    ],
    [t],
  );
  const rows = (products.data ?? []).filter((product) => product.isActive);
  return (
    <Stack>
      {products.error ? <ProblemAlert error={products.error} /> : null}
      <DataTable data={rows} columns={columns} caption={t('sales.catalogueCaption')} />
    </Stack>
  );
}

/**
 * A person of the purpose, found by the beginning of the family name; only of `holderTypes` when
 * given (the types the server accepts for a quote, decision 1030: a contact person is not offered).
 */
function PersonSelect({
  purpose,
  label,
  holderTypes,
  ...props
}: {
  purpose: string | undefined;
  label: string;
  holderTypes?: readonly string[] | null | undefined;
  value?: string | null;
  onChange?: (value: string | null) => void;
  error?: React.ReactNode;
}) {
  const { t } = useTranslation();
  const [search, setSearch] = useState('');
  const [debounced] = useDebouncedValue(search.trim(), 250);
  const people = useQuery({
    queryKey: ['people', purpose, { by: 'name', term: debounced }],
    enabled: purpose !== undefined && debounced.length >= 2,
    queryFn: () =>
      api<{ items: Person[] }>('GET', '/api/v1/people', { purpose, query: { name: debounced, limit: 20 } }),
  });
  return (
    <Select
      label={label}
      description={
        holderTypes
          ? t('sales.holderHelp', {
              types: holderTypes.map((type) => t(`subjectType.${type}`, { defaultValue: type })).join(', '),
            })
          : t('sales.personHelp')
      }
      searchable
      required
      searchValue={search}
      onSearchChange={setSearch}
      nothingFoundMessage={debounced.length >= 2 ? t('common.noRows') : t('sales.typeTwo')}
      data={(people.data?.items ?? [])
        .filter((person) => !holderTypes || holderTypes.includes(person.subjectType))
        .map((person) => ({
          value: String(person.subjectId),
          label: `${fullName(person)}${person.address ? `, ${person.address.city}` : ''}`,
        }))}
      filter={({ options }) => options}
      {...props}
    />
  );
}

interface QuoteValues {
  subjectId: string | null;
  productId: string | null;
  quantity: number;
  validUntil: string;
}

function NewQuote({ purpose, onDone }: { purpose: ScreenPurpose; onDone: () => void }) {
  const { t } = useTranslation();
  const queryClient = useQueryClient();
  const products = useProducts(purpose.purpose);
  // The types a quote may be for (decision 1030) that the chosen purpose reaches at all.
  const reached = purpose.candidates.find((candidate) => candidate.key === purpose.purpose)?.subjectTypes;
  const holderTypes = useMyPurposes().data?.holderTypes.quote?.filter(
    (type) => reached === undefined || reached.includes(type),
  );
  const form = useForm<QuoteValues>({
    initialValues: { subjectId: null, productId: null, quantity: 1, validUntil: inDays(30) },
    validate: {
      subjectId: (value) => (value ? null : t('common.required')),
      productId: (value) => (value ? null : t('common.required')),
      quantity: (value) => (value >= 1 ? null : t('common.required')),
      validUntil: (value) => (value > today() ? null : t('sales.futureDate')),
    },
  });
  const create = useMutation({
    mutationFn: (values: QuoteValues) =>
      api<Quote>('POST', '/api/v1/quotes', {
        purpose: purpose.purpose,
        body: {
          subjectId: Number(values.subjectId),
          validUntil: values.validUntil,
          lines: [{ productId: Number(values.productId), quantity: values.quantity }],
        },
      }),
    onSuccess: async (quote) => {
      notifySuccess(t('sales.quoteMade', { id: quote.quoteId }));
      await queryClient.invalidateQueries({ queryKey: ['quotes'] });
      onDone();
    },
  });
  return (
    <form onSubmit={form.onSubmit((values) => create.mutate(values))} noValidate>
      <Stack gap="sm">
        <PersonSelect
          purpose={purpose.purpose}
          label={t('sales.customer')}
          holderTypes={holderTypes}
          {...form.getInputProps('subjectId')}
        />
        <Select
          label={t('sales.product')}
          required
          searchable
          data={(products.data ?? [])
            .filter((product) => product.isActive)
            .map((product) => ({
              value: String(product.productId),
              label: `${product.name} (${euros(product.priceCents, currentLanguage())})`,
            }))}
          {...form.getInputProps('productId')}
        />
        <NumberInput label={t('sales.quantity')} min={1} required {...form.getInputProps('quantity')} />
        <TextInput type="date" label={t('sales.validUntil')} required {...form.getInputProps('validUntil')} />
        {create.error ? <ProblemAlert error={create.error} /> : null}
        <Group justify="flex-end">
          <Button type="submit" loading={create.isPending}>
            {t('sales.makeQuote')}
          </Button>
        </Group>
      </Stack>
    </form>
  );
}

function QuotesTab({ onOrdered }: { onOrdered: () => void }) {
  const { t } = useTranslation();
  const purpose = useScreenPurpose('quotes');
  // The order a quote leads to is written under the orders' purpose: the one chosen there, else the
  // best fitting (a write the staff member clicks, not a read on opening; decision 1280).
  const orderPurpose = useScreenPurpose('orders');
  const [opened, { open, close }] = useDisclosure(false);
  const quotes = useQuery({
    queryKey: ['quotes', purpose.purpose],
    enabled: purpose.purpose !== undefined,
    queryFn: () => allPages<Quote>('/api/v1/quotes', purpose.purpose),
  });
  const action = useAction<Quote>(['quotes', 'orders']);
  const columns = useMemo<ColumnDef<Quote, unknown>[]>(
    () => [
      numberColumn<Quote>(t('sales.quote'), (row) => row.quoteId),
      customerColumn(t),
      totalColumn(t),
      { id: 'validUntil', header: t('sales.validUntil'), accessorKey: 'validUntil', cell: dayCell },
      statusColumn(t),
      {
        id: 'actions',
        header: t('common.actions'),
        enableSorting: false,
        cell: ({ row }) => {
          const quote = row.original;
          const path = `/api/v1/quotes/${quote.quoteId}`;
          return (
            <Group gap={4} wrap="nowrap">
              {quote.status === 'draft' ? (
                <RowAction
                  label={t('sales.send')}
                  rowNumber={quote.quoteId}
                  onRun={() =>
                    action.mutate({ path: `${path}/send`, purpose: purpose.purpose, done: t('sales.sent') })
                  }
                />
              ) : null}
              {quote.status === 'sent' ? (
                <>
                  <RowAction
                    label={t('sales.accept')}
                    rowNumber={quote.quoteId}
                    onRun={() =>
                      action.mutate({
                        path: `${path}/accept`,
                        purpose: purpose.purpose,
                        done: t('sales.accepted'),
                      })
                    }
                  />
                  <RowAction
                    label={t('sales.rejectQuote')}
                    rowNumber={quote.quoteId}
                    secondary
                    onRun={() =>
                      action.mutate({
                        path: `${path}/reject`,
                        purpose: purpose.purpose,
                        done: t('sales.rejected'),
                      })
                    }
                  />
                </>
              ) : null}
              {quote.status === 'accepted' ? (
                <RowAction
                  label={t('sales.placeOrder')}
                  rowNumber={quote.quoteId}
                  onRun={() =>
                    action.mutate(
                      {
                        path: '/api/v1/orders',
                        purpose: orderPurpose.suggested,
                        body: {
                          quoteId: quote.quoteId,
                          ...(quote.subjectId ? { subjectId: quote.subjectId } : {}),
                        },
                        done: t('sales.ordered'),
                      },
                      { onSuccess: onOrdered },
                    )
                  }
                />
              ) : null}
            </Group>
          );
        },
      },
    ],
    [t, action, purpose.purpose, orderPurpose.suggested, onOrdered],
  );
  return (
    <Stack>
      <Group justify="space-between" align="flex-end">
        <PurposePicker state={purpose} />
        <Button onClick={open} disabled={!purpose.purpose}>
          {t('sales.newQuote')}
        </Button>
      </Group>
      {quotes.error ? <ProblemAlert error={quotes.error} /> : null}
      {action.error ? <ProblemAlert error={action.error} /> : null}
      <DataTable
        data={quotes.data ?? []}
        columns={columns}
        caption={t('sales.quotesCaption')}
        initialSorting={[{ id: 'id', desc: true }]}
        rowTestId={(row) => `quote-${row.quoteId}`}
      />
      <Modal
        opened={opened}
        onClose={close}
        title={t('sales.newQuote')}
        closeButtonProps={{ 'aria-label': t('common.close') }}
      >
        <NewQuote purpose={purpose} onDone={close} />
      </Modal>
    </Stack>
  );
}

function OrdersTab({ onContracted }: { onContracted: () => void }) {
  const { t } = useTranslation();
  const purpose = useScreenPurpose('orders');
  // Likewise the contract an order leads to, under the contracts' purpose (decision 1280).
  const contractPurpose = useScreenPurpose('contracts');
  const orders = useQuery({
    queryKey: ['orders', purpose.purpose],
    enabled: purpose.purpose !== undefined,
    queryFn: () => allPages<Order>('/api/v1/orders', purpose.purpose),
  });
  const action = useAction<Order>(['orders', 'contracts']);
  const columns = useMemo<ColumnDef<Order, unknown>[]>(
    () => [
      numberColumn<Order>(t('sales.order'), (row) => row.orderId),
      { id: 'quote', header: t('sales.quote'), accessorFn: (row) => (row.quoteId ? `#${row.quoteId}` : '—') },
      customerColumn(t),
      totalColumn(t),
      statusColumn(t),
      {
        id: 'actions',
        header: t('common.actions'),
        enableSorting: false,
        cell: ({ row }) => {
          const order = row.original;
          return (
            <Group gap={4} wrap="nowrap">
              {order.status === 'placed' ? (
                <>
                  <RowAction
                    label={t('sales.deliver')}
                    rowNumber={order.orderId}
                    onRun={() =>
                      action.mutate({
                        path: `/api/v1/orders/${order.orderId}/deliver`,
                        purpose: purpose.purpose,
                        done: t('sales.delivered'),
                      })
                    }
                  />
                  <RowAction
                    label={t('sales.cancel')}
                    rowNumber={order.orderId}
                    secondary
                    onRun={() =>
                      action.mutate({
                        path: `/api/v1/orders/${order.orderId}/cancel`,
                        purpose: purpose.purpose,
                        done: t('sales.cancelled'),
                      })
                    }
                  />
                </>
              ) : null}
              {order.status === 'delivered' ? (
                <RowAction
                  label={t('sales.startContract')}
                  rowNumber={order.orderId}
                  onRun={() =>
                    action.mutate(
                      {
                        path: '/api/v1/contracts',
                        purpose: contractPurpose.suggested,
                        body: {
                          orderId: order.orderId,
                          ...(order.subjectId ? { subjectId: order.subjectId } : {}),
                          startDate: today(),
                        },
                        done: t('sales.contracted'),
                      },
                      { onSuccess: onContracted },
                    )
                  }
                />
              ) : null}
            </Group>
          );
        },
      },
    ],
    [t, action, purpose.purpose, contractPurpose.suggested, onContracted],
  );
  return (
    <Stack>
      <PurposePicker state={purpose} />
      {orders.error ? <ProblemAlert error={orders.error} /> : null}
      {action.error ? <ProblemAlert error={action.error} /> : null}
      <DataTable
        data={orders.data ?? []}
        columns={columns}
        caption={t('sales.ordersCaption')}
        initialSorting={[{ id: 'id', desc: true }]}
        rowTestId={(row) => `order-${row.orderId}`}
      />
    </Stack>
  );
}

interface TerminationValues {
  terminatedOn: string;
  channel: string | null;
  reasonCode: string | null;
}

function ContractsTab() {
  const { t } = useTranslation();
  const purpose = useScreenPurpose('contracts');
  const [terminating, setTerminating] = useState<Contract | undefined>();
  const contracts = useQuery({
    queryKey: ['contracts', purpose.purpose],
    enabled: purpose.purpose !== undefined,
    queryFn: () => allPages<Contract>('/api/v1/contracts', purpose.purpose),
  });
  const columns = useMemo<ColumnDef<Contract, unknown>[]>(
    () => [
      numberColumn<Contract>(t('sales.contract'), (row) => row.contractId),
      { id: 'order', header: t('sales.order'), accessorFn: (row) => (row.orderId ? `#${row.orderId}` : '—') },
      customerColumn(t),
      { id: 'start', header: t('sales.start'), accessorKey: 'startDate', cell: dayCell },
      {
        id: 'end',
        header: t('sales.end'),
        accessorFn: (row) => row.termination?.terminatedOn ?? row.endDate ?? '—',
        cell: dayCell,
      },
      statusColumn(t),
      {
        id: 'actions',
        header: t('common.actions'),
        enableSorting: false,
        cell: ({ row }) =>
          row.original.termination === null && row.original.status !== 'ended' ? (
            <Button
              size="xs"
              variant="outline"
              color="red.9"
              aria-label={`${t('sales.terminate')} #${row.original.contractId}`}
              onClick={() => setTerminating(row.original)}
            >
              {t('sales.terminate')}
            </Button>
          ) : null,
      },
    ],
    [t],
  );
  return (
    <Stack>
      <PurposePicker state={purpose} />
      {contracts.error ? <ProblemAlert error={contracts.error} /> : null}
      <DataTable
        data={contracts.data ?? []}
        columns={columns}
        caption={t('sales.contractsCaption')}
        initialSorting={[{ id: 'id', desc: true }]}
        rowTestId={(row) => `contract-${row.contractId}`}
      />
      <Modal
        opened={terminating !== undefined}
        onClose={() => setTerminating(undefined)}
        title={t('sales.terminate')}
        closeButtonProps={{ 'aria-label': t('common.close') }}
      >
        {terminating ? (
          <TerminationForm
            contract={terminating}
            purpose={purpose.purpose}
            onDone={() => setTerminating(undefined)}
          />
        ) : null}
      </Modal>
    </Stack>
  );
}

const REASONS = ['customer_request', 'moved', 'price', 'service_quality', 'non_payment', 'other'];

function TerminationForm({
  contract,
  purpose,
  onDone,
}: {
  contract: Contract;
  purpose: string | undefined;
  onDone: () => void;
}) {
  const { t } = useTranslation();
  const queryClient = useQueryClient();
  const form = useForm<TerminationValues>({
    initialValues: { terminatedOn: today(), channel: null, reasonCode: null },
    validate: {
      terminatedOn: (value) => (/^\d{4}-\d{2}-\d{2}$/.test(value) ? null : t('common.required')),
      channel: (value) => (value ? null : t('common.required')),
      reasonCode: (value) => (value ? null : t('common.required')),
    },
  });
  const terminate = useMutation({
    mutationFn: (values: TerminationValues) =>
      api<Contract>('POST', `/api/v1/contracts/${contract.contractId}/terminate`, {
        purpose,
        body: { terminatedOn: values.terminatedOn, channel: values.channel, reasonCode: values.reasonCode },
      }),
    onSuccess: async () => {
      notifySuccess(t('sales.terminated'));
      await queryClient.invalidateQueries({ queryKey: ['contracts'] });
      onDone();
    },
  });
  return (
    <form onSubmit={form.onSubmit((values) => terminate.mutate(values))} noValidate>
      <Stack gap="sm">
        <TextInput
          type="date"
          label={t('sales.terminatedOn')}
          required
          {...form.getInputProps('terminatedOn')}
        />
        <Select
          label={t('sales.channel')}
          required
          data={['written', 'email', 'phone', 'portal'].map((channel) => ({
            value: channel,
            label: t(`terminationChannel.${channel}`),
          }))}
          {...form.getInputProps('channel')}
        />
        {form.values.channel === 'written' ? (
          <Card withBorder bg="yellow.0">
            <Text size="sm">{t('sales.writtenNote')}</Text>
          </Card>
        ) : null}
        <Select
          label={t('sales.reason')}
          required
          data={REASONS.map((reason) => ({ value: reason, label: t(`terminationReason.${reason}`) }))}
          {...form.getInputProps('reasonCode')}
        />
        {terminate.error ? <ProblemAlert error={terminate.error} /> : null}
        <Group justify="flex-end">
          <Button type="submit" color="red.9" loading={terminate.isPending}>
            {t('sales.terminateSubmit')}
          </Button>
        </Group>
      </Stack>
    </form>
  );
}
