import {
  Alert,
  Anchor,
  Badge,
  Button,
  Card,
  Group,
  Loader,
  SegmentedControl,
  SimpleGrid,
  Stack,
  Text,
  Textarea,
  TextInput,
  Title,
} from '@mantine/core';
import { useForm } from '@mantine/form';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import type { ColumnDef } from '@tanstack/react-table';
import { useMemo, useState } from 'react';
import { useTranslation } from 'react-i18next';
import { Link, Route, Routes, useNavigate, useParams } from 'react-router';
import { useCan } from '../../api/auth.js';
import { api, ApiError } from '../../api/client.js';
import { PurposePicker, useScreenPurpose } from '../../purposes/usePurpose.js';
import { DataTable } from '../../ui/DataTable.js';
import { notifySuccess } from '../../ui/notify.js';
import { ProblemAlert } from '../../ui/ProblemAlert.js';
import { ConsentsCard } from './ConsentsCard.js';
import { NewPerson } from './NewPerson.js';
import { HoldsCard } from './HoldsCard.js';
import { LiftRestrictionCard } from './LiftRestrictionCard.js';
import { UndeclaredConsentsCard } from './UndeclaredConsentsCard.js';
import { AuditTrailCard } from '../audit/AuditTrailCard.js';
import { PersonContracts, PersonInvoices } from './PersonRecords.js';

export interface Person {
  subjectId: number;
  subjectType: string;
  source: string;
  organisationId: number | null;
  familyName?: string | null;
  givenName?: string | null;
  preferredLanguage?: string | null;
  email?: string | null;
  phone?: string | null;
  birthDate?: string | null;
  address?: { street: string; postalCode: string; city: string; country: string } | null;
  jobTitle?: string | null;
  notes?: string | null;
}

export function PeopleScreen() {
  return (
    <Routes>
      <Route index element={<PeopleSearch />} />
      <Route path="new" element={<NewPerson />} />
      <Route path=":subjectId" element={<PersonDetail />} />
    </Routes>
  );
}

type SearchBy = 'name' | 'email' | 'phone';

export const fullName = (person: Person): string =>
  [person.givenName, person.familyName].filter(Boolean).join(' ') || `#${person.subjectId}`;

/** Search by name (prefix), e-mail or phone (exact), under the purpose the staff member acts for. */
function PeopleSearch() {
  const { t } = useTranslation();
  const navigate = useNavigate();
  const purpose = useScreenPurpose('people');
  const [by, setBy] = useState<SearchBy>('name');
  const [term, setTerm] = useState('');
  const [submitted, setSubmitted] = useState<{ by: SearchBy; term: string } | undefined>();
  const can = useCan();
  const results = useQuery({
    queryKey: ['people', purpose.purpose, submitted],
    enabled: purpose.purpose !== undefined,
    queryFn: () =>
      api<{ items: Person[] }>('GET', '/api/v1/people', {
        purpose: purpose.purpose,
        query: { limit: 200, ...(submitted && submitted.term ? { [submitted.by]: submitted.term } : {}) },
      }),
  });
  const columns = useMemo<ColumnDef<Person, unknown>[]>(
    () => [
      {
        id: 'name',
        header: t('people.name'),
        accessorFn: fullName,
        cell: ({ row, getValue }) => (
          <Anchor
            component={Link}
            to={String(row.original.subjectId)}
            onClick={(event) => event.stopPropagation()}
          >
            {String(getValue())}
          </Anchor>
        ),
      },
      {
        id: 'type',
        header: t('people.type'),
        accessorFn: (row) => t(`subjectType.${row.subjectType}`, { defaultValue: row.subjectType }),
      },
      { id: 'email', header: t('people.email'), accessorFn: (row) => row.email ?? '' },
      { id: 'phone', header: t('people.phone'), accessorFn: (row) => row.phone ?? '' },
      { id: 'city', header: t('people.city'), accessorFn: (row) => row.address?.city ?? '' },
    ],
    [t],
  );
  return (
    <Stack>
      <Group justify="space-between">
        <Title order={1}>{t('nav.people')}</Title>
        {can('peopleCreate') ? (
          <Button component={Link} to="new" data-testid="new-person">
            {t('newPerson.button')}
          </Button>
        ) : null}
      </Group>
      <PurposePicker state={purpose} />
      <form
        onSubmit={(event) => {
          event.preventDefault();
          setSubmitted({ by, term: term.trim() });
        }}
      >
        <Group align="flex-end">
          <SegmentedControl
            aria-label={t('people.searchBy')}
            value={by}
            onChange={(value) => setBy(value)}
            data={[
              { value: 'name', label: t('people.name') },
              { value: 'email', label: t('people.email') },
              { value: 'phone', label: t('people.phone') },
            ]}
          />
          <TextInput
            label={t(`people.searchLabel.${by}`)}
            value={term}
            onChange={(event) => setTerm(event.currentTarget.value)}
            w={320}
          />
          <Button type="submit">{t('common.search')}</Button>
        </Group>
      </form>
      {results.error ? <ProblemAlert error={results.error} /> : null}
      {results.isFetching ? <Loader size="sm" aria-label={t('common.loading')} /> : null}
      <DataTable
        data={results.data?.items ?? []}
        columns={columns}
        caption={t('people.caption')}
        onRowClick={(row) => void navigate(String(row.subjectId))}
      />
    </Stack>
  );
}

/** Refusals about this person (not about the purpose) become badges with their explanation. */
const STATE_CODES = ['subject_restricted', 'subject_objected', 'consent_missing', 'subject_erased'];

function PersonDetail() {
  const { t } = useTranslation();
  const { subjectId } = useParams();
  const purpose = useScreenPurpose('people');
  const person = useQuery({
    queryKey: ['person', subjectId, purpose.purpose],
    enabled: purpose.purpose !== undefined,
    queryFn: () => api<Person>('GET', `/api/v1/people/${subjectId}`, { purpose: purpose.purpose }),
  });
  // The rights cards read under the rights purpose on their own: while the screen asks why it is
  // opened, they wait too, so that nothing of the person is read before the choice (attack S27-1).
  const cardsWait = purpose.isLoading || purpose.mustChoose;
  const stateRefusal =
    person.error instanceof ApiError && STATE_CODES.includes(person.error.code)
      ? person.error.code
      : undefined;
  return (
    <Stack maw={900}>
      <Anchor component={Link} to="/people" size="sm">
        ← {t('nav.people')}
      </Anchor>
      <Group justify="space-between">
        <Title order={1}>{person.data ? fullName(person.data) : `#${subjectId}`}</Title>
        <Group gap="xs">
          {stateRefusal ? (
            <Badge color="red.9" size="lg" tt="none" data-testid="state-badge">
              {t(`people.badge.${stateRefusal}`)}
            </Badge>
          ) : null}
          {person.data ? (
            <Badge color="gray.7" size="lg" tt="none">
              {t(`subjectType.${person.data.subjectType}`, { defaultValue: person.data.subjectType })}
            </Badge>
          ) : null}
        </Group>
      </Group>
      <PurposePicker state={purpose} />
      {person.error ? <ProblemAlert error={person.error} /> : null}
      {subjectId && !cardsWait ? <LiftRestrictionCard subjectId={Number(subjectId)} /> : null}
      {person.isPending && purpose.purpose ? <Loader aria-label={t('common.loading')} /> : null}
      {person.data ? <PersonFacts person={person.data} /> : null}
      {person.data ? <NotesCard person={person.data} purpose={purpose.purpose} /> : null}
      {person.data ? <PersonContracts subjectId={person.data.subjectId} /> : null}
      {person.data ? <PersonInvoices subjectId={person.data.subjectId} /> : null}
      {person.data ? <ConsentsCard subjectId={person.data.subjectId} /> : null}
      {subjectId && !cardsWait ? <UndeclaredConsentsCard subjectId={Number(subjectId)} /> : null}
      {subjectId && !cardsWait ? <HoldsCard subjectId={Number(subjectId)} /> : null}
      {subjectId && !cardsWait ? <AuditTrailCard subjectId={Number(subjectId)} /> : null}
    </Stack>
  );
}

function PersonFacts({ person }: { person: Person }) {
  const { t } = useTranslation();
  const address = person.address
    ? `${person.address.street}, ${person.address.postalCode} ${person.address.city} (${person.address.country})`
    : undefined;
  const facts: Array<[string, string | null | undefined]> = [
    [t('people.email'), person.email],
    [t('people.phone'), person.phone],
    [t('people.address'), address],
    [t('people.language'), person.preferredLanguage],
    [t('people.birthDate'), person.birthDate],
    [t('people.jobTitle'), person.jobTitle],
    // An open key of the data map: said in words where known, else the key without underscores.
    [
      t('people.source'),
      t(`personSource.${person.source}`, { defaultValue: person.source.replaceAll('_', ' ') }),
    ],
  ];
  return (
    <Card withBorder>
      <SimpleGrid cols={{ base: 1, sm: 2 }} spacing="xs">
        {facts.map(([label, value]) => (
          <div key={label}>
            <Text size="xs" c="dimmed">
              {label}
            </Text>
            <Text size="sm">{value ?? t('people.notCovered')}</Text>
          </div>
        ))}
      </SimpleGrid>
      <Text size="xs" c="dimmed" mt="sm">
        {t('people.coveredNote')}
      </Text>
    </Card>
  );
}

/**
 * Notes: free text is checked for special categories and identifiers before it is kept (VK-16).
 * Written with PATCH under the screen's purpose when it covers notes (decision 1220); an empty
 * text clears them.
 */
function NotesCard({ person, purpose }: { person: Person; purpose: string | undefined }) {
  const { t } = useTranslation();
  const queryClient = useQueryClient();
  const form = useForm({ initialValues: { notes: person.notes ?? '' } });
  const save = useMutation({
    mutationFn: (notes: string) =>
      api<Person>('PATCH', `/api/v1/people/${person.subjectId}`, {
        purpose,
        body: { notes: notes.trim() === '' ? null : notes },
      }),
    onSuccess: async (saved) => {
      form.resetDirty({ notes: saved.notes ?? '' });
      notifySuccess(t('people.notesSaved'));
      await queryClient.invalidateQueries({ queryKey: ['person', String(person.subjectId)] });
    },
  });
  // The answer leaves notes out when the purpose does not cover them: nothing to show or save.
  const covered = person.notes !== undefined;
  return (
    <Card withBorder data-testid="notes-card">
      <form onSubmit={form.onSubmit((values) => save.mutate(values.notes))}>
        <Stack gap="sm">
          <Title order={2} size="h4">
            {t('people.notes')}
          </Title>
          {covered ? (
            <>
              <Text size="sm" c="dimmed">
                {t('people.notesHelp')}
              </Text>
              <Textarea label={t('people.notes')} autosize minRows={3} {...form.getInputProps('notes')} />
              {save.error ? <ProblemAlert error={save.error} fields={{ notes: t('people.notes') }} /> : null}
              {save.isSuccess ? <Alert color="green">{t('people.notesSaved')}</Alert> : null}
              <Group>
                <Button type="submit" loading={save.isPending}>
                  {t('common.save')}
                </Button>
              </Group>
            </>
          ) : (
            <Text size="sm">{t('people.notesNotCovered')}</Text>
          )}
        </Stack>
      </form>
    </Card>
  );
}
