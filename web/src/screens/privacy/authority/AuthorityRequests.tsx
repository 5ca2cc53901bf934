import '../messages.js';
import {
  Alert,
  Badge,
  Button,
  Checkbox,
  CloseButton,
  Group,
  Modal,
  Select,
  SimpleGrid,
  Stack,
  Text,
  Textarea,
  TextInput,
} from '@mantine/core';
import { useForm } from '@mantine/form';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import type { ColumnDef } from '@tanstack/react-table';
import { useMemo, useState } from 'react';
import { useTranslation } from 'react-i18next';
import { useMe, type Localized } from '../../../api/auth.js';
import { api } from '../../../api/client.js';
import {
  localized,
  PurposePicker,
  useScreenPurpose,
  type ScreenPurpose,
} from '../../../purposes/usePurpose.js';
import { DataTable } from '../../../ui/DataTable.js';
import { notifySuccess } from '../../../ui/notify.js';
import { personName, PersonSelect, type PersonName } from '../../../ui/PersonSelect.js';
import { ProblemAlert } from '../../../ui/ProblemAlert.js';
import { categoryLabel } from '../categories.js';

interface AuthorityRequest {
  authorityRequestId: number;
  recipient: string;
  authority: string;
  country: string;
  orderReference: string;
  subjectIds: number[];
  categories: string[];
  decision: 'disclose' | 'refuse';
  state: 'awaiting_approval' | 'approved' | 'refused' | 'disclosed';
  registeredBy: number;
  registeredAt: string;
  approvedBy: number | null;
  disclosedAt: string | null;
}

interface Recipient {
  key: string;
  label: string;
  /** The name in each language: the screen's own is shown. */
  labels: Localized;
  kind: string;
  categories: string[];
}

interface Disclosure {
  request: AuthorityRequest;
  persons: Array<Record<string, unknown>>;
  callRecords: Array<{ subjectId: number; startedAt: string; caller: string; destination: string }>;
}

/**
 * Requests of authorities (VK-10): registered with the decision, approved by a second member of
 * staff (four eyes), then disclosed once through the kernel's door. The server acts under the
 * policy's legal-disclosure purpose; the persons are looked up under the role's purpose for it.
 */
export function AuthorityRequests() {
  const { t } = useTranslation();
  const me = useMe();
  const queryClient = useQueryClient();
  const [registering, setRegistering] = useState(false);
  const [disclosing, setDisclosing] = useState<number | undefined>();
  const list = useQuery({
    queryKey: ['authority-requests'],
    queryFn: async () =>
      (await api<{ items: AuthorityRequest[] }>('GET', '/api/v1/authority-requests')).items,
  });
  const approve = useMutation({
    mutationFn: (id: number) => api('POST', `/api/v1/authority-requests/${id}/approve`),
    onSuccess: async () => {
      notifySuccess(t('authority.approved'));
      await queryClient.invalidateQueries({ queryKey: ['authority-requests'] });
    },
  });
  const columns = useMemo<ColumnDef<AuthorityRequest, unknown>[]>(
    () => [
      { id: 'id', header: '#', accessorKey: 'authorityRequestId' },
      {
        id: 'authority',
        header: t('authority.authority'),
        accessorFn: (row) => `${row.authority} (${row.country})`,
      },
      { id: 'reference', header: t('authority.reference'), accessorKey: 'orderReference' },
      { id: 'people', header: t('authority.people'), accessorFn: (row) => row.subjectIds.length },
      {
        id: 'decision',
        header: t('authority.decision'),
        accessorFn: (row) => t(`authority.decisions.${row.decision}`),
      },
      { id: 'state', header: t('authority.state'), accessorFn: (row) => t(`authority.states.${row.state}`) },
      {
        id: 'actions',
        header: t('common.actions'),
        enableSorting: false,
        cell: ({ row }) =>
          row.original.state === 'awaiting_approval' ? (
            row.original.registeredBy === me.data?.staffId ? (
              <Text size="xs" c="dimmed">
                {t('authority.otherApproves')}
              </Text>
            ) : (
              <Button size="compact-sm" onClick={() => approve.mutate(row.original.authorityRequestId)}>
                {t('authority.approve')}
              </Button>
            )
          ) : row.original.state === 'approved' && row.original.decision === 'disclose' ? (
            <Button
              size="compact-sm"
              color="red.9"
              onClick={() => setDisclosing(row.original.authorityRequestId)}
            >
              {t('privacyWork.disclose.button')}
            </Button>
          ) : null,
      },
    ],
    [t, me.data?.staffId, approve],
  );
  return (
    <Stack>
      <Text size="sm" c="dimmed">
        {t('authority.intro')}
      </Text>
      <Group>
        <Button onClick={() => setRegistering(true)}>{t('privacyWork.register.open')}</Button>
      </Group>
      {list.error ? <ProblemAlert error={list.error} /> : null}
      {approve.error ? <ProblemAlert error={approve.error} /> : null}
      <DataTable
        data={list.data ?? []}
        columns={columns}
        caption={t('authority.caption')}
        initialSorting={[{ id: 'id', desc: true }]}
        rowTestId={(row) => `authority-request-${row.authorityRequestId}`}
      />
      <Modal
        opened={registering}
        onClose={() => setRegistering(false)}
        title={t('privacyWork.register.title')}
        size="xl"
        closeButtonProps={{ 'aria-label': t('common.close') }}
      >
        <RegisterRequest onDone={() => setRegistering(false)} />
      </Modal>
      <Modal
        opened={disclosing !== undefined}
        onClose={() => setDisclosing(undefined)}
        title={t('privacyWork.disclose.title', { id: disclosing })}
        size="lg"
        closeButtonProps={{ 'aria-label': t('common.close') }}
      >
        {disclosing !== undefined ? <Disclose id={disclosing} /> : null}
      </Modal>
    </Stack>
  );
}

interface RegisterValues {
  recipient: string | null;
  authority: string;
  country: string;
  legalBasis: string;
  orderReference: string;
  subjectIds: string[];
  categories: string[];
  periodFrom: string;
  periodTo: string;
  decision: 'disclose' | 'refuse';
  decisionNote: string;
  confidentialUntil: string;
}

function RegisterRequest({ onDone }: { onDone: () => void }) {
  const { t } = useTranslation();
  const queryClient = useQueryClient();
  const people = useScreenPurpose('authorityPeople');
  const recipients = useQuery({
    queryKey: ['recipients'],
    queryFn: async () => (await api<{ items: Recipient[] }>('GET', '/api/v1/recipients')).items,
  });
  const authorities = (recipients.data ?? []).filter((recipient) => recipient.kind === 'authority');
  const form = useForm<RegisterValues>({
    initialValues: {
      recipient: null,
      authority: '',
      country: 'BE',
      legalBasis: '',
      orderReference: '',
      subjectIds: [],
      categories: [],
      periodFrom: '',
      periodTo: '',
      decision: 'disclose',
      decisionNote: '',
      confidentialUntil: '',
    },
    validate: {
      authority: (value) => (value.trim().length >= 2 ? null : t('common.required')),
      country: (value) =>
        /^[A-Z]{2}$/.test(value.trim().toUpperCase()) ? null : t('privacyWork.register.countryHelp'),
      legalBasis: (value) => (value.trim().length >= 2 ? null : t('common.required')),
      orderReference: (value) => (value.trim() ? null : t('common.required')),
      subjectIds: (value) => (value.length > 0 ? null : t('privacyWork.register.needOne')),
      categories: (value) => (value.length > 0 ? null : t('privacyWork.register.needOne')),
    },
  });
  const recipient =
    authorities.find((candidate) => candidate.key === form.values.recipient) ?? authorities[0];
  const register = useMutation({
    mutationFn: (values: RegisterValues) =>
      api<AuthorityRequest>('POST', '/api/v1/authority-requests', {
        body: {
          recipient: values.recipient,
          authority: values.authority.trim(),
          country: values.country.trim().toUpperCase(),
          legalBasis: values.legalBasis.trim(),
          orderReference: values.orderReference.trim(),
          subjectIds: values.subjectIds.map(Number),
          categories: values.categories,
          decision: values.decision,
          ...(values.periodFrom && values.periodTo
            ? { period: { from: values.periodFrom, to: values.periodTo } }
            : {}),
          ...(values.decisionNote.trim() ? { decisionNote: values.decisionNote.trim() } : {}),
          ...(values.confidentialUntil ? { confidentialUntil: values.confidentialUntil } : {}),
        },
      }),
    onSuccess: async (made) => {
      notifySuccess(t('privacyWork.register.registered', { id: made.authorityRequestId }));
      await queryClient.invalidateQueries({ queryKey: ['authority-requests'] });
      onDone();
    },
  });
  return (
    <form
      onSubmit={form.onSubmit((values) =>
        register.mutate({ ...values, recipient: values.recipient ?? recipient?.key ?? null }),
      )}
      noValidate
    >
      <Stack gap="sm">
        <Text size="sm" c="dimmed">
          {t('privacyWork.register.intro')}
        </Text>
        {recipients.error ? <ProblemAlert error={recipients.error} /> : null}
        <Select
          label={t('privacyWork.register.recipient')}
          required
          allowDeselect={false}
          data={authorities.map((candidate) => ({
            value: candidate.key,
            label: localized(candidate.labels, candidate.label),
          }))}
          {...form.getInputProps('recipient')}
          value={form.values.recipient ?? recipient?.key ?? null}
        />
        <SimpleGrid cols={{ base: 1, sm: 2 }} spacing="sm">
          <TextInput
            label={t('privacyWork.register.authority')}
            description={t('privacyWork.register.authorityHelp')}
            required
            {...form.getInputProps('authority')}
          />
          <TextInput
            label={t('privacyWork.register.country')}
            description={t('privacyWork.register.countryHelp')}
            required
            maxLength={2}
            {...form.getInputProps('country')}
          />
          <TextInput
            label={t('privacyWork.register.legalBasis')}
            description={t('privacyWork.register.legalBasisHelp')}
            required
            {...form.getInputProps('legalBasis')}
          />
          <TextInput
            label={t('privacyWork.register.reference')}
            required
            {...form.getInputProps('orderReference')}
          />
        </SimpleGrid>
        <PurposePicker state={people} />
        <PeoplePicker purpose={people} {...form.getInputProps('subjectIds')} />
        <Checkbox.Group
          label={t('privacyWork.register.categories')}
          description={t('privacyWork.register.categoriesHelp')}
          required
          {...form.getInputProps('categories')}
        >
          <SimpleGrid cols={{ base: 1, sm: 2 }} spacing={6} mt="xs">
            {(recipient?.categories ?? []).map((category) => (
              <Checkbox key={category} value={category} label={categoryLabel(t, category)} />
            ))}
          </SimpleGrid>
        </Checkbox.Group>
        <SimpleGrid cols={{ base: 1, sm: 3 }} spacing="sm">
          <TextInput
            type="date"
            label={t('privacyWork.register.periodFrom')}
            {...form.getInputProps('periodFrom')}
          />
          <TextInput
            type="date"
            label={t('privacyWork.register.periodTo')}
            {...form.getInputProps('periodTo')}
          />
          <TextInput
            type="date"
            label={t('privacyWork.register.confidentialUntil')}
            description={t('privacyWork.register.confidentialHelp')}
            {...form.getInputProps('confidentialUntil')}
          />
        </SimpleGrid>
        <Select
          label={t('privacyWork.register.decision')}
          allowDeselect={false}
          data={[
            { value: 'disclose', label: t('authority.decisions.disclose') },
            { value: 'refuse', label: t('authority.decisions.refuse') },
          ]}
          {...form.getInputProps('decision')}
        />
        <Textarea
          label={t('privacyWork.register.decisionNote')}
          autosize
          minRows={2}
          {...form.getInputProps('decisionNote')}
        />
        {register.error ? <ProblemAlert error={register.error} /> : null}
        <Group>
          <Button type="submit" loading={register.isPending}>
            {t('privacyWork.register.submit')}
          </Button>
        </Group>
      </Stack>
    </form>
  );
}

/** Several persons, each found by the beginning of the family name under the purpose picked. */
function PeoplePicker({
  purpose,
  value = [],
  onChange,
  error,
}: {
  purpose: ScreenPurpose;
  value?: string[];
  onChange?: (value: string[]) => void;
  error?: React.ReactNode;
}) {
  const { t } = useTranslation();
  // The select empties after each pick; its key renews it.
  const [round, setRound] = useState(0);
  return (
    <Stack gap={4}>
      <PersonSelect
        key={round}
        purpose={purpose.purpose}
        label={t('privacyWork.register.persons')}
        description={t('privacyWork.register.personsHelp')}
        required={value.length === 0}
        value={null}
        onChange={(picked) => {
          if (picked && !value.includes(picked)) onChange?.([...value, picked]);
          setRound((previous) => previous + 1);
        }}
        error={error}
      />
      {value.length > 0 ? (
        <Group gap="xs" data-testid="persons-picked">
          {value.map((id) => (
            <Badge
              key={id}
              color="indigo"
              variant="light"
              tt="none"
              size="lg"
              rightSection={
                <CloseButton
                  size="xs"
                  aria-label={t('privacyWork.register.remove', { id })}
                  onClick={() => onChange?.(value.filter((other) => other !== id))}
                />
              }
            >
              <PersonLabel purpose={purpose.purpose} id={id} />
            </Badge>
          ))}
        </Group>
      ) : null}
      {purpose.candidates.length === 0 && !purpose.isLoading ? (
        <Alert color="gray">{t('privacyWork.register.noPeoplePurpose')}</Alert>
      ) : null}
    </Stack>
  );
}

/** A picked person's name (read again under the purpose), else their number. */
function PersonLabel({ purpose, id }: { purpose: string | undefined; id: string }) {
  const person = useQuery({
    queryKey: ['person-name', purpose, Number(id)],
    enabled: purpose !== undefined,
    retry: false,
    staleTime: 60_000,
    queryFn: () => api<PersonName>('GET', `/api/v1/people/${id}`, { purpose }),
  });
  return <>{person.data ? `${personName(person.data)} (#${id})` : `#${id}`}</>;
}

/** Discloses an approved request once (after a confirmation) and offers the file for the authority. */
function Disclose({ id }: { id: number }) {
  const { t } = useTranslation();
  const queryClient = useQueryClient();
  const disclose = useMutation({
    mutationFn: () => api<Disclosure>('POST', `/api/v1/authority-requests/${id}/disclose`),
    onSuccess: async () => {
      await queryClient.invalidateQueries({ queryKey: ['authority-requests'] });
    },
  });
  const download = (result: Disclosure) => {
    const url = URL.createObjectURL(
      new Blob([JSON.stringify(result, null, 2)], { type: 'application/json' }),
    );
    const link = document.createElement('a');
    link.href = url;
    link.download = `authority-request-${id}.json`;
    link.click();
    setTimeout(() => URL.revokeObjectURL(url), 1000);
  };
  if (disclose.data)
    return (
      <Stack data-testid="disclosure">
        <Alert color="teal" role="status">
          {t('privacyWork.disclose.done', {
            persons: disclose.data.persons.length,
            calls: disclose.data.callRecords.length,
          })}
        </Alert>
        <Group>
          <Button variant="default" onClick={() => download(disclose.data)}>
            {t('privacyWork.disclose.download')}
          </Button>
        </Group>
      </Stack>
    );
  return (
    <Stack>
      <Text size="sm">{t('privacyWork.disclose.confirm', { id })}</Text>
      {disclose.error ? <ProblemAlert error={disclose.error} /> : null}
      <Group>
        <Button color="red.9" loading={disclose.isPending} onClick={() => disclose.mutate()}>
          {t('privacyWork.disclose.yes')}
        </Button>
      </Group>
    </Stack>
  );
}
