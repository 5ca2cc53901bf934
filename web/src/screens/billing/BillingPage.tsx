import './messages.js';
import {
  Alert,
  Anchor,
  Badge,
  Button,
  Card,
  Code,
  Group,
  List,
  Modal,
  SimpleGrid,
  Stack,
  Tabs,
  Text,
  TextInput,
  Title,
} from '@mantine/core';
import { useForm } from '@mantine/form';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import type { ColumnDef } from '@tanstack/react-table';
import { useMemo, useState } from 'react';
import { useTranslation } from 'react-i18next';
import { Link } from 'react-router';
import { api, fetchBlob, fetchText, newIdempotencyKey, saveBlob } from '../../api/client.js';
import { currentLanguage } from '../../i18n/index.js';
import { localized, PurposePicker, useScreenPurpose } from '../../purposes/usePurpose.js';
import { DataTable } from '../../ui/DataTable.js';
import { ProblemAlert } from '../../ui/ProblemAlert.js';
import { wordsFor } from '../audit/audit-words.js';
import { euros } from '../sales/api.js';
import { AccountingExport } from './AccountingExport.js';
import { InvoiceActions } from './InvoiceActions.js';
import { InvoiceDunning } from './InvoiceDunning.js';
import { BillingSettings, PaymentsImport } from './PaymentsAndSettings.js';
import { brusselsLastMonth, brusselsToday, dayCell, formatDay, formatMonth } from '../../ui/dates.js';

interface Invoice {
  invoiceId: number;
  kind: 'invoice' | 'credit_note';
  invoiceNumber: string;
  subjectId: number | null;
  organisationId: number | null;
  periodStart: string | null;
  issueDate: string;
  dueDate: string;
  totalInclVatCents: number;
  balanceCents: number;
  status: string;
  structuredCommunication: string;
  buyer?: { name?: string | null } | null;
}

interface RunResult {
  period: string;
  issueDate: string;
  candidates: number;
  invoiced: number;
  empty: number;
  alreadyInvoiced: number;
  refused: number;
  /** The first 100 of those not invoiced, and why (a gate's audit reason or a hold-back code). */
  refusedCustomers?: Array<{ subjectId: number; code: string }>;
  firstNumber: string | null;
  lastNumber: string | null;
  totalInclVatCents: number;
}

const lastMonth = (): string => brusselsLastMonth().month;

/** Billing: run a month (summary first), the invoices with their HTML and Peppol UBL documents. */
export function BillingPage() {
  const { t } = useTranslation();
  const purpose = useScreenPurpose('billing');
  const [tab, setTab] = useState<string | null>('invoices');
  return (
    <Stack>
      <Title order={1}>{t('nav.billing')}</Title>
      <PurposePicker state={purpose} />
      <Tabs value={tab} onChange={setTab} keepMounted={false}>
        <Tabs.List>
          <Tabs.Tab value="invoices">{t('billing.invoices')}</Tabs.Tab>
          <Tabs.Tab value="run">{t('billing.run')}</Tabs.Tab>
          <Tabs.Tab value="payments">{t('billing.payments')}</Tabs.Tab>
          <Tabs.Tab value="export">{t('dunning.exportTab')}</Tabs.Tab>
          <Tabs.Tab value="settings">{t('billing.settings')}</Tabs.Tab>
        </Tabs.List>
        <Tabs.Panel value="payments" pt="md">
          <PaymentsImport purpose={purpose.purpose} />
        </Tabs.Panel>
        <Tabs.Panel value="export" pt="md">
          <AccountingExport />
        </Tabs.Panel>
        <Tabs.Panel value="settings" pt="md">
          <BillingSettings />
        </Tabs.Panel>
        <Tabs.Panel value="run" pt="md">
          <InvoiceRun purpose={purpose.purpose} onDone={() => setTab('invoices')} />
        </Tabs.Panel>
        <Tabs.Panel value="invoices" pt="md">
          <Invoices purpose={purpose.purpose} />
        </Tabs.Panel>
      </Tabs>
    </Stack>
  );
}

interface RunValues {
  period: string;
  issueDate: string;
}

function InvoiceRun({ purpose, onDone }: { purpose: string | undefined; onDone: () => void }) {
  const { t } = useTranslation();
  const queryClient = useQueryClient();
  const purposes = useScreenPurpose('billing');
  // The call records are read under the role's purpose that covers them (call billing), not the invoice one:
  // the confirmation names it before the run (decision 1280: a named purpose, not a guess).
  const calls = useScreenPurpose('calls');
  const callsPurpose = calls.candidates.find((candidate) => candidate.key === calls.suggested);
  const [preview, setPreview] = useState<RunValues | undefined>();
  const [result, setResult] = useState<RunResult | undefined>();
  const [key, setKey] = useState(newIdempotencyKey);
  const form = useForm<RunValues>({
    initialValues: { period: lastMonth(), issueDate: brusselsToday() },
    validate: {
      period: (value) => (/^\d{4}-\d{2}$/.test(value) ? null : t('common.required')),
      issueDate: (value) => (/^\d{4}-\d{2}-\d{2}$/.test(value) ? null : t('common.required')),
    },
  });
  const run = useMutation({
    mutationFn: (values: RunValues) =>
      api<RunResult>('POST', '/api/v1/invoice-runs', {
        purpose,
        idempotencyKey: key,
        body: { ...values, ...(callsPurpose ? { callsPurpose: callsPurpose.key } : {}) },
      }),
    onSuccess: async (answer) => {
      setResult(answer);
      setPreview(undefined);
      setKey(newIdempotencyKey());
      await queryClient.invalidateQueries({ queryKey: ['invoices'] });
    },
  });
  const purposeLabel = purposes.candidates.find((candidate) => candidate.key === purpose);
  return (
    <Stack maw={720}>
      <form onSubmit={form.onSubmit((values) => setPreview(values))} noValidate>
        <Group align="flex-end">
          <TextInput type="month" label={t('billing.period')} required {...form.getInputProps('period')} />
          <TextInput
            type="date"
            label={t('billing.issueDate')}
            required
            {...form.getInputProps('issueDate')}
          />
          <Button type="submit" variant="default">
            {t('billing.preview')}
          </Button>
        </Group>
      </form>
      {preview ? (
        <Card withBorder data-testid="run-preview">
          <Stack gap="xs">
            <Title order={2} size="h4">
              {t('billing.previewTitle', { period: formatMonth(preview.period) })}
            </Title>
            <Text size="sm">
              {t('billing.previewText', {
                period: formatMonth(preview.period),
                issueDate: formatDay(preview.issueDate),
              })}
            </Text>
            <Text size="sm">
              {t('purpose.actingFor')}: <b>{localized(purposeLabel?.label, purpose ?? '')}</b>
            </Text>
            {callsPurpose ? (
              <Text size="sm">
                {t('billing.callsUnder')}: <b>{localized(callsPurpose.label, callsPurpose.key)}</b>
              </Text>
            ) : null}
            <Text size="sm" c="dimmed">
              {t('billing.previewOnce')}
            </Text>
            {run.error ? <ProblemAlert error={run.error} /> : null}
            <Group>
              <Button loading={run.isPending} onClick={() => run.mutate(preview)}>
                {t('billing.runSubmit', { period: formatMonth(preview.period) })}
              </Button>
              <Button variant="default" onClick={() => setPreview(undefined)}>
                {t('common.cancel')}
              </Button>
            </Group>
          </Stack>
        </Card>
      ) : null}
      {result ? (
        <Alert
          // Yellow when someone was not invoiced: billing has something to do before the month is whole.
          color={result.refused > 0 ? 'yellow' : 'green'}
          title={t('billing.ranTitle', { period: formatMonth(result.period) })}
          data-testid="run-result"
        >
          <SimpleGrid cols={2} spacing={4}>
            <Text size="sm">{t('billing.invoiced')}</Text>
            <Text size="sm">{result.invoiced}</Text>
            <Text size="sm">{t('billing.numbers')}</Text>
            <Text size="sm">
              {result.firstNumber ? `${result.firstNumber} – ${result.lastNumber ?? ''}` : '—'}
            </Text>
            <Text size="sm">{t('billing.already')}</Text>
            <Text size="sm">{result.alreadyInvoiced}</Text>
            <Text size="sm">{t('billing.empty')}</Text>
            <Text size="sm">{result.empty}</Text>
            <Text size="sm">{t('billing.refused')}</Text>
            <Text size="sm">{result.refused}</Text>
            <Text size="sm">{t('billing.totalIncl')}</Text>
            <Text size="sm">{euros(result.totalInclVatCents, currentLanguage())}</Text>
          </SimpleGrid>
          <RefusedCustomers refused={result.refusedCustomers ?? []} />
          <Button mt="sm" size="xs" variant="default" onClick={onDone}>
            {t('billing.showInvoices')}
          </Button>
        </Alert>
      ) : null}
    </Stack>
  );
}

/**
 * Who the run did not invoice and why, each a link to the person: a hold-back code of the run
 * (decisions 1241, 1290) or the gate's reason in the audit's words (decision 1260).
 */
function RefusedCustomers({ refused }: { refused: Array<{ subjectId: number; code: string }> }) {
  const { t } = useTranslation();
  if (refused.length === 0) return null;
  const why = (code: string): string =>
    t(`billing.refusedCodes.${code}`, {
      defaultValue: wordsFor(currentLanguage(), 'reasons', code) ?? code,
    });
  return (
    <Stack gap={2} mt="sm" data-testid="run-refused">
      <Text size="sm" fw={600}>
        {t('billing.refusedListTitle')}
      </Text>
      <List size="sm">
        {refused.map(({ subjectId, code }) => (
          <List.Item key={subjectId}>
            <Anchor component={Link} to={`/people/${subjectId}`} size="sm">
              {t('billing.refusedCustomer', { id: subjectId })}
            </Anchor>
            : {why(code)} <Code>{code}</Code>
          </List.Item>
        ))}
      </List>
    </Stack>
  );
}

/**
 * The invoices under the screen's purpose. Those of a customer who restricted processing are
 * withheld there (the billing purpose stops for them); a dispute on one is recorded under the
 * books' purpose (decision 0950), so the list offers to show the invoices under it, where only
 * the dispute form is shown (decision 1031).
 */
function Invoices({ purpose }: { purpose: string | undefined }) {
  const { t } = useTranslation();
  const [open, setOpen] = useState<Invoice | undefined>();
  const books = useScreenPurpose('accounting');
  // Offered by name (a button that says it), so the best fitting one until another is chosen.
  const booksPurpose = books.suggested !== purpose ? books.suggested : undefined;
  const booksLabel = localized(
    books.candidates.find((candidate) => candidate.key === booksPurpose)?.label,
    booksPurpose ?? '',
  );
  const [underBooks, setUnderBooks] = useState(false);
  const listPurpose = underBooks && booksPurpose ? booksPurpose : purpose;
  const invoices = useQuery({
    queryKey: ['invoices', listPurpose],
    enabled: listPurpose !== undefined,
    queryFn: async () => {
      const items: Invoice[] = [];
      let withheld = 0;
      let cursor: string | undefined;
      for (let page = 0; page < 20; page += 1) {
        const answer = await api<{ items: Invoice[]; nextCursor: string | null; withheld: number }>(
          'GET',
          '/api/v1/invoices',
          { purpose: listPurpose, query: { limit: 200, cursor } },
        );
        items.push(...answer.items);
        withheld += answer.withheld;
        if (!answer.nextCursor) break;
        cursor = answer.nextCursor;
      }
      return { items, withheld };
    },
  });
  const isUnderBooks = listPurpose !== purpose;
  const columns = useMemo<ColumnDef<Invoice, unknown>[]>(
    () => [
      {
        id: 'number',
        header: t('billing.number'),
        accessorKey: 'invoiceNumber',
        cell: ({ row }) => (
          <Button variant="subtle" size="compact-sm" onClick={() => setOpen(row.original)}>
            {row.original.invoiceNumber}
          </Button>
        ),
      },
      { id: 'kind', header: t('billing.kind'), accessorFn: (row) => t(`billing.kinds.${row.kind}`) },
      {
        id: 'buyer',
        header: t('billing.buyer'),
        accessorFn: (row) => row.buyer?.name ?? (row.subjectId ? `#${row.subjectId}` : '—'),
      },
      { id: 'issue', header: t('billing.issueDate'), accessorKey: 'issueDate', cell: dayCell },
      { id: 'due', header: t('billing.dueDate'), accessorKey: 'dueDate', cell: dayCell },
      {
        id: 'total',
        header: t('billing.totalIncl'),
        accessorKey: 'totalInclVatCents',
        cell: ({ row }) => euros(row.original.totalInclVatCents, currentLanguage()),
      },
      {
        id: 'status',
        header: t('billing.status'),
        accessorFn: (row) => t(`billing.statuses.${row.status}`, { defaultValue: row.status }),
        cell: ({ row, getValue }) => (
          <Badge
            color={
              row.original.status === 'overdue'
                ? 'red.9'
                : row.original.status === 'paid'
                  ? 'teal.9'
                  : 'gray.7'
            }
            tt="none"
          >
            {String(getValue())}
          </Badge>
        ),
      },
    ],
    [t],
  );
  return (
    <Stack>
      {invoices.error ? <ProblemAlert error={invoices.error} /> : null}
      {!isUnderBooks && booksPurpose && (invoices.data?.withheld ?? 0) > 0 ? (
        <Alert color="blue" title={t('billing.withheldTitle', { count: invoices.data?.withheld ?? 0 })}>
          <Stack gap="xs" align="flex-start">
            <Text size="sm">{t('billing.withheldHelp', { books: booksLabel })}</Text>
            <Button size="xs" variant="default" onClick={() => setUnderBooks(true)}>
              {t('billing.showUnderBooks', { books: booksLabel })}
            </Button>
          </Stack>
        </Alert>
      ) : null}
      {isUnderBooks ? (
        <Alert color="blue" title={t('billing.underBooksTitle', { books: booksLabel })}>
          <Stack gap="xs" align="flex-start">
            <Text size="sm">{t('billing.underBooksHelp')}</Text>
            <Button size="xs" variant="default" onClick={() => setUnderBooks(false)}>
              {t('billing.backToPurpose')}
            </Button>
          </Stack>
        </Alert>
      ) : null}
      <DataTable
        data={invoices.data?.items ?? []}
        columns={columns}
        caption={t('billing.invoicesCaption')}
        initialSorting={[{ id: 'number', desc: true }]}
        rowTestId={(row) => `invoice-${row.invoiceNumber}`}
      />
      <Modal
        opened={open !== undefined}
        onClose={() => setOpen(undefined)}
        title={open ? t('billing.invoiceTitle', { number: open.invoiceNumber }) : ''}
        size="xl"
        closeButtonProps={{ 'aria-label': t('common.close') }}
      >
        {open ? (
          <Stack>
            <InvoiceDocuments invoice={open} purpose={listPurpose} />
            {open.kind === 'invoice' && !isUnderBooks ? (
              <InvoiceDunning invoiceId={open.invoiceId} purpose={listPurpose} />
            ) : null}
            <InvoiceActions
              invoiceId={open.invoiceId}
              invoiceNumber={open.invoiceNumber}
              kind={open.kind}
              purpose={listPurpose}
              disputeOnly={isUnderBooks}
            />
          </Stack>
        ) : null}
      </Modal>
    </Stack>
  );
}

type Document = 'html' | 'ubl';

/** The invoice as the customer gets it (HTML, shown in a sandboxed frame) and its Peppol UBL XML. */
function InvoiceDocuments({ invoice, purpose }: { invoice: Invoice; purpose: string | undefined }) {
  const { t } = useTranslation();
  const [shown, setShown] = useState<Document>('html');
  const document = useQuery({
    queryKey: ['invoice-document', invoice.invoiceId, shown, purpose],
    queryFn: () => fetchText(`/api/v1/invoices/${invoice.invoiceId}/${shown}`, { purpose }),
  });
  const download = () => {
    if (!document.data) return;
    const blob = new Blob([document.data], { type: shown === 'ubl' ? 'application/xml' : 'text/html' });
    const url = URL.createObjectURL(blob);
    const link = window.document.createElement('a');
    link.href = url;
    link.download = `${invoice.invoiceNumber}.${shown === 'ubl' ? 'xml' : 'html'}`;
    link.click();
    setTimeout(() => URL.revokeObjectURL(url), 1000);
  };
  const pdf = useMutation({
    mutationFn: async () => {
      const blob = await fetchBlob(`/api/v1/invoices/${invoice.invoiceId}/pdf`, { purpose });
      const url = URL.createObjectURL(blob);
      // A new tab shows the PDF with the browser's viewer; where pop-ups are blocked, it is saved.
      if (!window.open(url, '_blank')) saveBlob(blob, `${invoice.invoiceNumber}.pdf`);
      setTimeout(() => URL.revokeObjectURL(url), 60_000);
    },
  });
  return (
    <Stack>
      <Group>
        <Button variant={shown === 'html' ? 'filled' : 'default'} onClick={() => setShown('html')}>
          {t('billing.html')}
        </Button>
        <Button variant={shown === 'ubl' ? 'filled' : 'default'} onClick={() => setShown('ubl')}>
          {t('billing.ubl')}
        </Button>
        <Button variant="default" onClick={download} disabled={!document.data}>
          {t('common.download')}
        </Button>
        <Button
          variant="default"
          loading={pdf.isPending}
          onClick={() => pdf.mutate()}
          aria-label={t('dunning.pdfOpen')}
          data-testid="invoice-pdf"
        >
          {t('dunning.pdf')}
        </Button>
      </Group>
      {pdf.error ? <ProblemAlert error={pdf.error} /> : null}
      {document.error ? <ProblemAlert error={document.error} /> : null}
      {document.data && shown === 'html' ? (
        <iframe
          title={t('billing.htmlTitle', { number: invoice.invoiceNumber })}
          srcDoc={document.data}
          sandbox=""
          style={{ width: '100%', height: 560, border: '1px solid var(--mantine-color-gray-4)' }}
          data-testid="invoice-html"
        />
      ) : null}
      {document.data && shown === 'ubl' ? (
        <Code
          block
          data-testid="invoice-ubl"
          tabIndex={0}
          aria-label={t('billing.ubl')}
          style={{ maxHeight: 560, overflow: 'auto' }}
        >
          {document.data}
        </Code>
      ) : null}
    </Stack>
  );
}
