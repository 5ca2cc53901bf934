import {
  Anchor,
  Badge,
  Button,
  Card,
  Checkbox,
  Fieldset,
  Group,
  Loader,
  SimpleGrid,
  Stack,
  Text,
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
import { api } from '../../api/client.js';
import { PurposePicker, useScreenPurpose } from '../../purposes/usePurpose.js';
import { DataTable } from '../../ui/DataTable.js';
import { notifySuccess } from '../../ui/notify.js';
import { ProblemAlert } from '../../ui/ProblemAlert.js';
import { fullName, type Person } from '../people/PeoplePage.js';

interface Address {
  street: string;
  postalCode: string;
  city: string;
  country: string;
}

export interface Organisation {
  organisationId: number;
  name: string;
  enterpriseNumber: string | null;
  country: string;
  address: Address | null;
  billingAddress: Address | null;
  vatRegistered: boolean;
  buyerReference: string | null;
}

/** Business customers: company facts, no personal data (the routes take no purpose). */
export function OrganisationsScreen() {
  return (
    <Routes>
      <Route index element={<OrganisationList />} />
      <Route path=":organisationId" element={<OrganisationDetail />} />
    </Routes>
  );
}

const oneLine = (address: Address | null): string =>
  address ? `${address.street}, ${address.postalCode} ${address.city} (${address.country})` : '';

function OrganisationList() {
  const { t } = useTranslation();
  const navigate = useNavigate();
  const [term, setTerm] = useState('');
  const [name, setName] = useState('');
  const list = useQuery({
    queryKey: ['organisations', name],
    queryFn: () =>
      api<{ items: Organisation[] }>('GET', '/api/v1/organisations', {
        query: { limit: 200, ...(name ? { name } : {}) },
      }),
  });
  const columns = useMemo<ColumnDef<Organisation, unknown>[]>(
    () => [
      {
        id: 'name',
        header: t('orgs.name'),
        accessorKey: 'name',
        cell: ({ row }) => (
          <Anchor
            component={Link}
            to={String(row.original.organisationId)}
            onClick={(event) => event.stopPropagation()}
          >
            {row.original.name}
          </Anchor>
        ),
      },
      { id: 'number', header: t('orgs.enterpriseNumber'), accessorFn: (row) => row.enterpriseNumber ?? '' },
      { id: 'city', header: t('orgs.city'), accessorFn: (row) => row.address?.city ?? '' },
      {
        id: 'vat',
        header: t('orgs.vatRegistered'),
        accessorFn: (row) => (row.vatRegistered ? t('common.yes') : t('common.no')),
      },
      { id: 'reference', header: t('orgs.buyerReference'), accessorFn: (row) => row.buyerReference ?? '' },
    ],
    [t],
  );
  return (
    <Stack>
      <Title order={1}>{t('nav.organisations')}</Title>
      <Text c="dimmed" size="sm">
        {t('orgs.intro')}
      </Text>
      <form
        onSubmit={(event) => {
          event.preventDefault();
          setName(term.trim());
        }}
      >
        <Group align="flex-end">
          <TextInput
            label={t('orgs.searchName')}
            value={term}
            onChange={(event) => setTerm(event.currentTarget.value)}
            w={320}
          />
          <Button type="submit">{t('common.search')}</Button>
        </Group>
      </form>
      {list.error ? <ProblemAlert error={list.error} /> : null}
      {list.isFetching ? <Loader size="sm" aria-label={t('common.loading')} /> : null}
      <DataTable
        data={list.data?.items ?? []}
        columns={columns}
        caption={t('orgs.caption')}
        onRowClick={(row) => void navigate(String(row.organisationId))}
        rowTestId={(row) => `organisation-${row.organisationId}`}
      />
    </Stack>
  );
}

interface EditValues {
  name: string;
  street: string;
  postalCode: string;
  city: string;
  separateBilling: boolean;
  billingStreet: string;
  billingPostalCode: string;
  billingCity: string;
  billingCountry: string;
  vatRegistered: boolean;
  buyerReference: string;
}

function valuesOf(organisation: Organisation): EditValues {
  return {
    name: organisation.name,
    street: organisation.address?.street ?? '',
    postalCode: organisation.address?.postalCode ?? '',
    city: organisation.address?.city ?? '',
    separateBilling: organisation.billingAddress !== null,
    billingStreet: organisation.billingAddress?.street ?? '',
    billingPostalCode: organisation.billingAddress?.postalCode ?? '',
    billingCity: organisation.billingAddress?.city ?? '',
    billingCountry: organisation.billingAddress?.country ?? organisation.country,
    vatRegistered: organisation.vatRegistered,
    buyerReference: organisation.buyerReference ?? '',
  };
}

/** The PATCH body: an address only when all its parts are given; an emptied field clears it. */
function changeOf(values: EditValues) {
  const address =
    values.street.trim() || values.postalCode.trim() || values.city.trim()
      ? { street: values.street, postalCode: values.postalCode, city: values.city }
      : null;
  const billingAddress = values.separateBilling
    ? {
        street: values.billingStreet,
        postalCode: values.billingPostalCode,
        city: values.billingCity,
        country: values.billingCountry.toUpperCase(),
      }
    : null;
  return {
    name: values.name,
    address,
    billingAddress,
    vatRegistered: values.vatRegistered,
    buyerReference: values.buyerReference.trim() ? values.buyerReference : null,
  };
}

function OrganisationDetail() {
  const can = useCan();
  const { t } = useTranslation();
  const { organisationId } = useParams();
  const organisation = useQuery({
    queryKey: ['organisation', organisationId],
    queryFn: () => api<Organisation>('GET', `/api/v1/organisations/${organisationId}`),
  });
  return (
    <Stack maw={900}>
      <Anchor component={Link} to="/organisations" size="sm">
        ← {t('nav.organisations')}
      </Anchor>
      <Group justify="space-between">
        <Title order={1}>{organisation.data?.name ?? `#${organisationId}`}</Title>
        {organisation.data ? (
          <Badge color={organisation.data.vatRegistered ? 'teal.9' : 'gray.7'} size="lg" tt="none">
            {organisation.data.vatRegistered ? t('orgs.vatYes') : t('orgs.vatNo')}
          </Badge>
        ) : null}
      </Group>
      {organisation.error ? <ProblemAlert error={organisation.error} /> : null}
      {organisation.data ? <OrganisationFacts organisation={organisation.data} /> : null}
      {organisation.data ? <ContactPersons organisationId={organisation.data.organisationId} /> : null}
      {/* The roles the server lets change a business customer (decision 0395); the others only read. */}
      {organisation.data && can('organisationChanges') ? (
        <OrganisationEdit key={JSON.stringify(organisation.data)} organisation={organisation.data} />
      ) : null}
    </Stack>
  );
}

function OrganisationFacts({ organisation }: { organisation: Organisation }) {
  const { t } = useTranslation();
  const facts: Array<[string, string]> = [
    [t('orgs.enterpriseNumber'), organisation.enterpriseNumber ?? '—'],
    [t('orgs.country'), organisation.country],
    [t('orgs.address'), oneLine(organisation.address) || '—'],
    [t('orgs.billingAddress'), oneLine(organisation.billingAddress) || t('orgs.sameAsAddress')],
    [t('orgs.buyerReference'), organisation.buyerReference ?? '—'],
  ];
  return (
    <Card withBorder data-testid="organisation-facts">
      <SimpleGrid cols={{ base: 1, sm: 2 }} spacing="xs">
        {facts.map(([label, value]) => (
          <div key={label}>
            <Text size="xs" c="dimmed">
              {label}
            </Text>
            <Text size="sm">{value}</Text>
          </div>
        ))}
      </SimpleGrid>
    </Card>
  );
}

function OrganisationEdit({ organisation }: { organisation: Organisation }) {
  const { t } = useTranslation();
  const queryClient = useQueryClient();
  const form = useForm<EditValues>({
    initialValues: valuesOf(organisation),
    validate: {
      name: (value) => (value.trim() ? null : t('common.required')),
      billingCountry: (value, values) =>
        !values.separateBilling || /^[A-Za-z]{2}$/.test(value) ? null : t('orgs.countryInvalid'),
    },
  });
  const save = useMutation({
    mutationFn: (values: EditValues) =>
      api<Organisation>('PATCH', `/api/v1/organisations/${organisation.organisationId}`, {
        body: changeOf(values),
      }),
    onSuccess: async () => {
      notifySuccess(t('orgs.saved'));
      await queryClient.invalidateQueries({ queryKey: ['organisation'] });
      await queryClient.invalidateQueries({ queryKey: ['organisations'] });
    },
  });
  return (
    <Card withBorder>
      <form onSubmit={form.onSubmit((values) => save.mutate(values))} noValidate>
        <Stack gap="sm">
          <Title order={2} size="h4">
            {t('orgs.edit')}
          </Title>
          <TextInput label={t('orgs.name')} required {...form.getInputProps('name')} />
          <Fieldset legend={t('orgs.address')}>
            <SimpleGrid cols={{ base: 1, sm: 3 }}>
              <TextInput label={t('orgs.street')} {...form.getInputProps('street')} />
              <TextInput label={t('orgs.postalCode')} {...form.getInputProps('postalCode')} />
              <TextInput label={t('orgs.city')} {...form.getInputProps('city')} />
            </SimpleGrid>
          </Fieldset>
          <Checkbox
            label={t('orgs.separateBilling')}
            {...form.getInputProps('separateBilling', { type: 'checkbox' })}
          />
          {form.values.separateBilling ? (
            <Fieldset legend={t('orgs.billingAddress')}>
              <SimpleGrid cols={{ base: 1, sm: 4 }}>
                <TextInput label={t('orgs.street')} {...form.getInputProps('billingStreet')} />
                <TextInput label={t('orgs.postalCode')} {...form.getInputProps('billingPostalCode')} />
                <TextInput label={t('orgs.city')} {...form.getInputProps('billingCity')} />
                <TextInput
                  label={t('orgs.country')}
                  description={t('orgs.countryHelp')}
                  maxLength={2}
                  {...form.getInputProps('billingCountry')}
                />
              </SimpleGrid>
            </Fieldset>
          ) : null}
          <Checkbox
            label={t('orgs.vatRegistered')}
            description={t('orgs.vatHelp')}
            {...form.getInputProps('vatRegistered', { type: 'checkbox' })}
          />
          <TextInput
            label={t('orgs.buyerReference')}
            description={t('orgs.buyerReferenceHelp')}
            {...form.getInputProps('buyerReference')}
          />
          {save.error ? <ProblemAlert error={save.error} /> : null}
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

/**
 * The organisation's contact persons, read under the role's purpose for people (names only shown);
 * where several fit, asked first (decision 1280).
 */
function ContactPersons({ organisationId }: { organisationId: number }) {
  const { t } = useTranslation();
  const purpose = useScreenPurpose('people');
  const people = useQuery({
    queryKey: ['people', 'organisation', organisationId, purpose.purpose],
    enabled: purpose.purpose !== undefined,
    queryFn: async () =>
      (
        await api<{ items: Person[] }>('GET', '/api/v1/people', {
          purpose: purpose.purpose,
          query: { organisationId, limit: 200 },
        })
      ).items,
  });
  if (purpose.purpose === undefined && !purpose.mustChoose) return null;
  return (
    <Card withBorder>
      <Stack gap="xs">
        <Title order={2} size="h4">
          {t('orgs.contacts')}
        </Title>
        {purpose.mustChoose ? <PurposePicker state={purpose} /> : null}
        {people.error ? <ProblemAlert error={people.error} /> : null}
        {people.data && people.data.length === 0 ? (
          <Text size="sm" c="dimmed">
            {t('orgs.noContacts')}
          </Text>
        ) : null}
        <Group gap="md">
          {(people.data ?? []).map((person) => (
            <Anchor key={person.subjectId} component={Link} to={`/people/${person.subjectId}`}>
              {fullName(person)}
            </Anchor>
          ))}
        </Group>
      </Stack>
    </Card>
  );
}
