import './messages.js';
import {
  Anchor,
  Badge,
  Button,
  Group,
  Loader,
  Modal,
  Select,
  Stack,
  Tabs,
  Text,
  TextInput,
  Title,
} from '@mantine/core';
import { useForm, type UseFormReturnType } from '@mantine/form';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import type { ColumnDef } from '@tanstack/react-table';
import { useMemo, useState } from 'react';
import type { TFunction } from 'i18next';
import { useTranslation } from 'react-i18next';
import { Link } from 'react-router';
import { api } from '../../api/client.js';
import { PurposePicker, useScreenPurpose, type ScreenPurpose } from '../../purposes/usePurpose.js';
import { DataTable } from '../../ui/DataTable.js';
import { notifySuccess } from '../../ui/notify.js';
import { PersonSelect } from '../../ui/PersonSelect.js';
import { ProblemAlert } from '../../ui/ProblemAlert.js';
import {
  brusselsMoment,
  IDENTIFIER_KINDS,
  isCurrent,
  todayInBrussels,
  useWithHolders,
  type Assignment,
  type IdentifierKind,
  type LineIdentifier,
} from './api.js';
import { CallImports } from './CallImports.js';
import { CallRecords } from './CallRecords.js';
import { UnratedCalls } from './UnratedCalls.js';

const NAME = 'user.name';

/**
 * Numbers and line identifiers (who held them when; give, port, add, end), a customer's call
 * records, call-record uploads with their rejected lines and the month's unrated calls (decision
 * 0360), each under the purpose the staff member acts for (decision 0320).
 */
export function TelephonyScreen() {
  const { t } = useTranslation();
  const purpose = useScreenPurpose('telephony');
  const calls = useScreenPurpose('calls');
  const [tab, setTab] = useState<string | null>('numbers');
  return (
    <Stack>
      <Title order={1}>{t('telephony.title')}</Title>
      <PurposePicker state={purpose} />
      <Tabs value={tab} onChange={setTab} keepMounted={false}>
        <Tabs.List>
          <Tabs.Tab value="numbers">{t('telephony.numbers')}</Tabs.Tab>
          <Tabs.Tab value="identifiers">{t('telephony.identifiers')}</Tabs.Tab>
          {calls.candidates.length > 0 ? <Tabs.Tab value="calls">{t('telephony.calls')}</Tabs.Tab> : null}
          {calls.candidates.length > 0 ? <Tabs.Tab value="imports">{t('telephony.imports')}</Tabs.Tab> : null}
          {calls.candidates.length > 0 ? (
            <Tabs.Tab value="unrated">{t('telephony.unratedCalls')}</Tabs.Tab>
          ) : null}
        </Tabs.List>
        <Tabs.Panel value="numbers" pt="md">
          <Numbers purpose={purpose} />
        </Tabs.Panel>
        <Tabs.Panel value="identifiers" pt="md">
          <Identifiers purpose={purpose} />
        </Tabs.Panel>
        {/* Call records are read under their own purpose: where several fit, asked here first (decision 1280). */}
        <Tabs.Panel value="calls" pt="md">
          {calls.mustChoose ? <PurposePicker state={calls} /> : null}
          <CallRecords purpose={purpose} calls={calls} />
        </Tabs.Panel>
        <Tabs.Panel value="imports" pt="md">
          {calls.mustChoose ? <PurposePicker state={calls} /> : null}
          <CallImports calls={calls} />
        </Tabs.Panel>
        <Tabs.Panel value="unrated" pt="md">
          {calls.mustChoose ? <PurposePicker state={calls} /> : null}
          <UnratedCalls purpose={purpose} calls={calls} coversNames={coversNames(purpose)} />
        </Tabs.Panel>
      </Tabs>
    </Stack>
  );
}

function coversNames(state: ScreenPurpose): boolean {
  return (
    state.candidates.find((candidate) => candidate.key === state.purpose)?.categories.includes(NAME) ?? false
  );
}

function HolderLink({ subjectId, name }: { subjectId: number; name: string }) {
  return (
    <Anchor component={Link} to={`/people/${subjectId}`} size="sm">
      {name}
    </Anchor>
  );
}

function PeriodBadge({ period }: { period: { validFrom: string; validTo: string | null } }) {
  const { t } = useTranslation();
  return isCurrent(period) ? (
    <Badge color="teal.9" tt="none">
      {t('telephony.current')}
    </Badge>
  ) : (
    <Badge color="gray.7" tt="none">
      {Date.parse(period.validFrom) > Date.now() ? t('telephony.upcoming') : t('telephony.ended')}
    </Badge>
  );
}

interface HeldRow {
  subjectId: number;
  holder: string;
  validFrom: string;
  validTo: string | null;
}

/** Who held it, linked to the person's page. */
function holderColumn<Row extends HeldRow>(t: TFunction): ColumnDef<Row, unknown> {
  return {
    id: 'holder',
    header: t('telephony.holder'),
    accessorFn: (row) => row.holder,
    cell: ({ row }) => <HolderLink subjectId={row.original.subjectId} name={row.original.holder} />,
  };
}

/** From when and until when it was held (an open end sorts last). */
function periodColumns<Row extends HeldRow>(t: TFunction): ColumnDef<Row, unknown>[] {
  return [
    {
      id: 'from',
      header: t('telephony.from'),
      accessorFn: (row) => row.validFrom,
      cell: ({ row }) => brusselsMoment(row.original.validFrom),
    },
    {
      id: 'to',
      header: t('telephony.to'),
      accessorFn: (row) => row.validTo ?? '9999',
      cell: ({ row }) => (row.original.validTo ? brusselsMoment(row.original.validTo) : t('telephony.open')),
    },
  ];
}

function Numbers({ purpose }: { purpose: ScreenPurpose }) {
  const { t } = useTranslation();
  const [term, setTerm] = useState('');
  const [number, setNumber] = useState<string | undefined>();
  const [dialog, setDialog] = useState<'assign' | 'port' | undefined>();
  const list = useQuery({
    queryKey: ['phone-numbers', purpose.purpose, number],
    enabled: purpose.purpose !== undefined,
    queryFn: async () =>
      (
        await api<{ items: Assignment[] }>('GET', '/api/v1/phone-numbers', {
          purpose: purpose.purpose,
          query: { number },
        })
      ).items,
  });
  const rows = useWithHolders(list.data, purpose.purpose, coversNames(purpose));
  const columns = useMemo<ColumnDef<Assignment & { holder: string }, unknown>[]>(
    () => [
      { id: 'number', header: t('telephony.number'), accessorKey: 'number' },
      holderColumn<Assignment & { holder: string }>(t),
      { id: 'contract', header: t('telephony.contractRef'), accessorFn: (row) => row.contractRef ?? '' },
      ...periodColumns<Assignment & { holder: string }>(t),
      {
        id: 'state',
        header: t('telephony.state'),
        enableSorting: false,
        cell: ({ row }) => <PeriodBadge period={row.original} />,
      },
    ],
    [t],
  );
  return (
    <Stack>
      <Text size="sm" c="dimmed">
        {t('telephony.numbersIntro')}
      </Text>
      <Group align="flex-end">
        <form
          onSubmit={(event) => {
            event.preventDefault();
            setNumber(term.trim() || undefined);
          }}
        >
          <Group align="flex-end">
            <TextInput
              label={t('telephony.numberSearch')}
              value={term}
              onChange={(event) => setTerm(event.currentTarget.value)}
              w={260}
            />
            <Button type="submit" variant="default">
              {t('common.search')}
            </Button>
          </Group>
        </form>
        <Button onClick={() => setDialog('assign')} disabled={purpose.purpose === undefined}>
          {t('telephony.assign')}
        </Button>
        <Button variant="default" onClick={() => setDialog('port')} disabled={purpose.purpose === undefined}>
          {t('telephony.port')}
        </Button>
      </Group>
      {list.error ? <ProblemAlert error={list.error} /> : null}
      {list.isFetching ? <Loader size="sm" aria-label={t('common.loading')} /> : null}
      <DataTable
        data={rows}
        columns={columns}
        caption={t('telephony.numbersCaption')}
        initialSorting={[{ id: 'from', desc: true }]}
        rowTestId={(row) => `assignment-${row.assignmentId}`}
      />
      <Modal
        opened={dialog === 'assign'}
        onClose={() => setDialog(undefined)}
        title={t('telephony.assign')}
        size="lg"
        closeButtonProps={{ 'aria-label': t('common.close') }}
      >
        <AssignNumber purpose={purpose} onDone={() => setDialog(undefined)} />
      </Modal>
      <Modal
        opened={dialog === 'port'}
        onClose={() => setDialog(undefined)}
        title={t('telephony.port')}
        closeButtonProps={{ 'aria-label': t('common.close') }}
      >
        <RecordPort purpose={purpose} onDone={() => setDialog(undefined)} />
      </Modal>
    </Stack>
  );
}

/** The first and last day of a period (the last one optional: open-ended). */
function ValidityFields<Values extends { from: string; to: string }>({
  form,
}: {
  form: UseFormReturnType<Values>;
}) {
  const { t } = useTranslation();
  return (
    <Group grow>
      <TextInput
        type="date"
        label={t('telephony.from')}
        description={t('telephony.fromHelp')}
        required
        {...form.getInputProps('from')}
      />
      <TextInput
        type="date"
        label={t('telephony.to')}
        description={t('telephony.toHelp')}
        {...form.getInputProps('to')}
      />
    </Group>
  );
}

/** A form's refusal in words (the fields by their labels), then its submit button. */
function SubmitRow({
  mutation,
  label,
  fields,
}: {
  mutation: { error: Error | null; isPending: boolean };
  label: string;
  fields: Readonly<Record<string, string>>;
}) {
  return (
    <>
      {mutation.error ? <ProblemAlert error={mutation.error} fields={fields} /> : null}
      <Group>
        <Button type="submit" loading={mutation.isPending}>
          {label}
        </Button>
      </Group>
    </>
  );
}

interface AssignValues {
  number: string;
  subjectId: string | null;
  contractRef: string;
  from: string;
  to: string;
}

function AssignNumber({ purpose, onDone }: { purpose: ScreenPurpose; onDone: () => void }) {
  const { t } = useTranslation();
  const queryClient = useQueryClient();
  const form = useForm<AssignValues>({
    initialValues: { number: '', subjectId: null, contractRef: '', from: todayInBrussels(), to: '' },
    validate: {
      number: (value) => (value.trim().length >= 3 ? null : t('common.required')),
      subjectId: (value) => (value ? null : t('common.required')),
      from: (value) => (value ? null : t('common.required')),
    },
  });
  const assign = useMutation({
    mutationFn: (values: AssignValues) =>
      api<Assignment>('POST', '/api/v1/phone-numbers/assignments', {
        purpose: purpose.purpose,
        body: {
          number: values.number.trim(),
          subjectId: Number(values.subjectId),
          from: values.from,
          ...(values.contractRef.trim() ? { contractRef: values.contractRef.trim() } : {}),
          ...(values.to ? { to: values.to } : {}),
        },
      }),
    onSuccess: async (made) => {
      notifySuccess(t('telephony.assigned', { number: made.number }));
      await queryClient.invalidateQueries({ queryKey: ['phone-numbers'] });
      onDone();
    },
  });
  return (
    <form onSubmit={form.onSubmit((values) => assign.mutate(values))} noValidate>
      <Stack gap="sm">
        <TextInput
          label={t('telephony.number')}
          description={t('telephony.numberHelp')}
          required
          {...form.getInputProps('number')}
        />
        <PersonSelect
          purpose={purpose.purpose}
          label={t('telephony.holder')}
          {...form.getInputProps('subjectId')}
        />
        <TextInput label={t('telephony.contractRef')} {...form.getInputProps('contractRef')} />
        <ValidityFields form={form} />
        <SubmitRow
          mutation={assign}
          label={t('telephony.assignSubmit')}
          fields={{
            number: t('telephony.number'),
            subjectId: t('telephony.holder'),
            contractRef: t('telephony.contractRef'),
            from: t('telephony.from'),
            to: t('telephony.to'),
          }}
        />
      </Stack>
    </form>
  );
}

interface PortValues {
  number: string;
  direction: string;
  at: string;
}

function RecordPort({ purpose, onDone }: { purpose: ScreenPurpose; onDone: () => void }) {
  const { t } = useTranslation();
  const queryClient = useQueryClient();
  const form = useForm<PortValues>({
    initialValues: { number: '', direction: 'in', at: todayInBrussels() },
    validate: {
      number: (value) => (value.trim().length >= 3 ? null : t('common.required')),
      at: (value) => (value ? null : t('common.required')),
    },
  });
  const port = useMutation({
    mutationFn: (values: PortValues) =>
      api('POST', '/api/v1/phone-numbers/porting', {
        purpose: purpose.purpose,
        body: { number: values.number.trim(), direction: values.direction, at: values.at },
      }),
    onSuccess: async () => {
      notifySuccess(t('telephony.ported'));
      await queryClient.invalidateQueries({ queryKey: ['phone-numbers'] });
      onDone();
    },
  });
  return (
    <form onSubmit={form.onSubmit((values) => port.mutate(values))} noValidate>
      <Stack gap="sm">
        <TextInput
          label={t('telephony.number')}
          description={t('telephony.numberHelp')}
          required
          {...form.getInputProps('number')}
        />
        <Select
          label={t('telephony.portDirection')}
          allowDeselect={false}
          data={[
            { value: 'in', label: t('telephony.portIn') },
            { value: 'out', label: t('telephony.portOut') },
          ]}
          {...form.getInputProps('direction')}
        />
        <TextInput type="date" label={t('telephony.portAt')} required {...form.getInputProps('at')} />
        <SubmitRow
          mutation={port}
          label={t('telephony.portSubmit')}
          fields={{
            number: t('telephony.number'),
            direction: t('telephony.portDirection'),
            at: t('telephony.portAt'),
          }}
        />
      </Stack>
    </form>
  );
}

function Identifiers({ purpose }: { purpose: ScreenPurpose }) {
  const { t } = useTranslation();
  const [kind, setKind] = useState<string>('all');
  const [adding, setAdding] = useState(false);
  const [ending, setEnding] = useState<LineIdentifier | undefined>();
  const list = useQuery({
    queryKey: ['line-identifiers', purpose.purpose, kind],
    enabled: purpose.purpose !== undefined,
    queryFn: async () =>
      (
        await api<{ items: LineIdentifier[] }>('GET', '/api/v1/line-identifiers', {
          purpose: purpose.purpose,
          query: { kind: kind === 'all' ? undefined : kind },
        })
      ).items,
  });
  const rows = useWithHolders(list.data, purpose.purpose, coversNames(purpose));
  const columns = useMemo<ColumnDef<LineIdentifier & { holder: string }, unknown>[]>(
    () => [
      { id: 'kind', header: t('telephony.kind'), accessorFn: (row) => t(`telephony.kinds.${row.kind}`) },
      { id: 'value', header: t('telephony.value'), accessorKey: 'value' },
      { id: 'context', header: t('telephony.context'), accessorFn: (row) => row.context ?? '' },
      holderColumn<LineIdentifier & { holder: string }>(t),
      ...periodColumns<LineIdentifier & { holder: string }>(t),
      {
        id: 'actions',
        header: t('common.actions'),
        enableSorting: false,
        cell: ({ row }) =>
          row.original.validTo === null ? (
            <Button
              size="compact-sm"
              variant="default"
              aria-label={t('telephony.endTitle', { value: row.original.value })}
              onClick={() => setEnding(row.original)}
            >
              {t('telephony.end')}
            </Button>
          ) : (
            <PeriodBadge period={row.original} />
          ),
      },
    ],
    [t],
  );
  return (
    <Stack>
      <Text size="sm" c="dimmed">
        {t('telephony.identifiersIntro')}
      </Text>
      <Group align="flex-end">
        <Select
          label={t('telephony.kind')}
          allowDeselect={false}
          value={kind}
          onChange={(value) => setKind(value ?? 'all')}
          data={[
            { value: 'all', label: t('telephony.allKinds') },
            ...IDENTIFIER_KINDS.map((value) => ({ value, label: t(`telephony.kinds.${value}`) })),
          ]}
          w={260}
        />
        <Button onClick={() => setAdding(true)} disabled={purpose.purpose === undefined}>
          {t('telephony.add')}
        </Button>
      </Group>
      {list.error ? <ProblemAlert error={list.error} /> : null}
      <DataTable
        data={rows}
        columns={columns}
        caption={t('telephony.identifiersCaption')}
        initialSorting={[{ id: 'from', desc: true }]}
        rowTestId={(row) => `identifier-${row.identifierId}`}
      />
      <Modal
        opened={adding}
        onClose={() => setAdding(false)}
        title={t('telephony.add')}
        size="lg"
        closeButtonProps={{ 'aria-label': t('common.close') }}
      >
        <AddIdentifier purpose={purpose} onDone={() => setAdding(false)} />
      </Modal>
      <Modal
        opened={ending !== undefined}
        onClose={() => setEnding(undefined)}
        title={ending ? t('telephony.endTitle', { value: ending.value }) : ''}
        closeButtonProps={{ 'aria-label': t('common.close') }}
      >
        {ending ? (
          <EndIdentifier purpose={purpose} identifier={ending} onDone={() => setEnding(undefined)} />
        ) : null}
      </Modal>
    </Stack>
  );
}

interface IdentifierValues {
  subjectId: string | null;
  kind: IdentifierKind;
  value: string;
  context: string;
  from: string;
  to: string;
}

function AddIdentifier({ purpose, onDone }: { purpose: ScreenPurpose; onDone: () => void }) {
  const { t } = useTranslation();
  const queryClient = useQueryClient();
  const form = useForm<IdentifierValues>({
    initialValues: {
      subjectId: null,
      kind: 'sip_user',
      value: '',
      context: '',
      from: todayInBrussels(),
      to: '',
    },
    validate: {
      subjectId: (value) => (value ? null : t('common.required')),
      value: (value) => (value.trim() ? null : t('common.required')),
      context: (value, values) => (values.kind !== 'extension' || value.trim() ? null : t('common.required')),
      from: (value) => (value ? null : t('common.required')),
    },
  });
  const add = useMutation({
    mutationFn: (values: IdentifierValues) =>
      api<LineIdentifier>('POST', '/api/v1/line-identifiers', {
        purpose: purpose.purpose,
        body: {
          subjectId: Number(values.subjectId),
          kind: values.kind,
          value: values.value.trim(),
          from: values.from,
          ...(values.kind === 'extension' ? { context: values.context.trim() } : {}),
          ...(values.to ? { to: values.to } : {}),
        },
      }),
    onSuccess: async () => {
      notifySuccess(t('telephony.added'));
      await queryClient.invalidateQueries({ queryKey: ['line-identifiers'] });
      onDone();
    },
  });
  return (
    <form onSubmit={form.onSubmit((values) => add.mutate(values))} noValidate>
      <Stack gap="sm">
        <PersonSelect
          purpose={purpose.purpose}
          label={t('telephony.holder')}
          {...form.getInputProps('subjectId')}
        />
        <Select
          label={t('telephony.kind')}
          allowDeselect={false}
          data={IDENTIFIER_KINDS.map((value) => ({ value, label: t(`telephony.kinds.${value}`) }))}
          {...form.getInputProps('kind')}
        />
        <TextInput
          label={t('telephony.value')}
          description={t('telephony.valueHelp')}
          required
          {...form.getInputProps('value')}
        />
        {form.values.kind === 'extension' ? (
          <TextInput
            label={t('telephony.context')}
            description={t('telephony.contextHelp')}
            required
            {...form.getInputProps('context')}
          />
        ) : null}
        <ValidityFields form={form} />
        <SubmitRow
          mutation={add}
          label={t('telephony.addSubmit')}
          fields={{
            subjectId: t('telephony.holder'),
            kind: t('telephony.kind'),
            value: t('telephony.value'),
            context: t('telephony.context'),
            from: t('telephony.from'),
            to: t('telephony.to'),
          }}
        />
      </Stack>
    </form>
  );
}

function EndIdentifier({
  purpose,
  identifier,
  onDone,
}: {
  purpose: ScreenPurpose;
  identifier: LineIdentifier;
  onDone: () => void;
}) {
  const { t } = useTranslation();
  const queryClient = useQueryClient();
  const form = useForm({ initialValues: { at: todayInBrussels() } });
  const end = useMutation({
    mutationFn: (at: string) =>
      api<LineIdentifier>('POST', `/api/v1/line-identifiers/${identifier.identifierId}/end`, {
        purpose: purpose.purpose,
        body: { at },
      }),
    onSuccess: async () => {
      notifySuccess(t('telephony.endedNotice'));
      await queryClient.invalidateQueries({ queryKey: ['line-identifiers'] });
      onDone();
    },
  });
  return (
    <form onSubmit={form.onSubmit((values) => end.mutate(values.at))} noValidate>
      <Stack gap="sm">
        <TextInput
          type="date"
          label={t('telephony.endAt')}
          description={t('telephony.endHelp')}
          required
          {...form.getInputProps('at')}
        />
        <SubmitRow mutation={end} label={t('telephony.endSubmit')} fields={{ at: t('telephony.endAt') }} />
      </Stack>
    </form>
  );
}
