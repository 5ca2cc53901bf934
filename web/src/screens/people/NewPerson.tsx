import {
  Alert,
  Anchor,
  Button,
  Card,
  Fieldset,
  Group,
  Select,
  SimpleGrid,
  Stack,
  Text,
  Textarea,
  TextInput,
  Title,
} from '@mantine/core';
import { useForm } from '@mantine/form';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useTranslation } from 'react-i18next';
import { Link, useNavigate } from 'react-router';
import { useMyPurposes, type PurposeInfo } from '../../api/auth.js';
import { api, ApiError } from '../../api/client.js';
import { PurposePicker, useScreenPurpose } from '../../purposes/usePurpose.js';
import { notifySuccess } from '../../ui/notify.js';
import './new-person.messages.js';
import type { Person } from './PeoplePage.js';
import { RegistrationProblem } from './RegistrationProblem.js';

/** The data categories of the fields a person is registered with (the server's data map). */
const CATEGORY = {
  gender: 'user.demographic.gender',
  language: 'user.demographic.language',
  email: 'user.contact.email',
  phone: 'user.contact.phone_number',
  birthDate: 'user.demographic.date_of_birth',
  address: 'user.contact.address',
  job: 'user.job_title',
  notes: 'kluis.communication.correspondence',
} as const;

/** The types offered first: a sales or support desk mostly registers these. */
const TYPE_ORDER = ['customer', 'prospect', 'contact_person', 'job_applicant', 'partner', 'other_person'];

interface Values {
  subjectType: string;
  givenName: string;
  familyName: string;
  gender: string;
  preferredLanguage: string;
  email: string;
  phone: string;
  birthDate: string;
  street: string;
  postalCode: string;
  city: string;
  country: string;
  jobTitle: string;
  notes: string;
  organisationId: string;
}

const EMPTY: Values = {
  subjectType: '',
  givenName: '',
  familyName: '',
  gender: '',
  preferredLanguage: '',
  email: '',
  phone: '',
  birthDate: '',
  street: '',
  postalCode: '',
  city: '',
  country: 'BE',
  jobTitle: '',
  notes: '',
  organisationId: '',
};

/** The form's field names of a request path (`body/address/street` is the street field). */
const FIELD_OF_PATH: Record<string, keyof Values> = {
  subjectType: 'subjectType',
  givenName: 'givenName',
  familyName: 'familyName',
  gender: 'gender',
  preferredLanguage: 'preferredLanguage',
  email: 'email',
  phone: 'phone',
  birthDate: 'birthDate',
  'address.street': 'street',
  'address.postalCode': 'postalCode',
  'address.city': 'city',
  'address.country': 'country',
  address: 'street',
  jobTitle: 'jobTitle',
  notes: 'notes',
  organisationId: 'organisationId',
};

/** Paths of a request's headers, query or route parameters: none is a field of the form. */
const NOT_BODY = /^(?:headers|querystring|params)(?:[/.]|$)/;

function fieldOfPath(path: string): keyof Values | undefined {
  const key = path.replace(/^body[/.]?/, '').replaceAll('/', '.');
  return Object.hasOwn(FIELD_OF_PATH, key) ? FIELD_OF_PATH[key] : undefined;
}

/**
 * The paths an answer of the server names, each with the form's field for it: its issues' paths,
 * else the `field: ` its sentence starts with (a phone number, a birth date, free text refused).
 */
export function namedFieldsOf(error: ApiError): Array<{ path: string; field: keyof Values | undefined }> {
  const issues = error.details?.['issues'];
  // A header or query parameter (the purpose) is no field of the form: such a refusal has none.
  const paths = Array.isArray(issues)
    ? issues.flatMap((issue: { path?: unknown }) =>
        typeof issue.path === 'string' && issue.path !== '' && !NOT_BODY.test(issue.path) ? [issue.path] : [],
      )
    : [];
  const named = [...new Set(paths)].map((path) => ({ path, field: fieldOfPath(path) }));
  if (named.length > 0 || (Array.isArray(issues) && issues.length > 0)) return named;
  // A sentence's leading `field: ` counts only when it is a field of the form ("staff_accounts: …" is not).
  const lead = /^([A-Za-z][\w./]*): /.exec(error.detail ?? '');
  const field = lead?.[1] ? fieldOfPath(lead[1]) : undefined;
  return lead?.[1] && field ? [{ path: lead[1], field }] : [];
}

/** The form's fields an answer of the server names. */
export function fieldsOfError(error: ApiError): Array<keyof Values> {
  const fields = namedFieldsOf(error).flatMap(({ field }) => (field ? [field] : []));
  return [...new Set(fields)];
}

function bodyOf(values: Values, covers: (category: string) => boolean): Record<string, unknown> {
  const text = (value: string) => (value.trim() === '' ? undefined : value.trim());
  const hasAddress = [values.street, values.postalCode, values.city].some((value) => value.trim() !== '');
  const body: Record<string, unknown> = {
    subjectType: values.subjectType,
    givenName: values.givenName.trim(),
    familyName: values.familyName.trim(),
    gender: covers(CATEGORY.gender) ? text(values.gender) : undefined,
    preferredLanguage: covers(CATEGORY.language) ? text(values.preferredLanguage) : undefined,
    email: covers(CATEGORY.email) ? text(values.email) : undefined,
    phone: covers(CATEGORY.phone) ? text(values.phone) : undefined,
    birthDate: covers(CATEGORY.birthDate) ? text(values.birthDate) : undefined,
    address:
      covers(CATEGORY.address) && hasAddress
        ? {
            street: values.street.trim(),
            postalCode: values.postalCode.trim(),
            city: values.city.trim(),
            country: values.country.trim().toUpperCase(),
          }
        : undefined,
    jobTitle: covers(CATEGORY.job) ? text(values.jobTitle) : undefined,
    notes: covers(CATEGORY.notes) ? text(values.notes) : undefined,
    organisationId:
      values.subjectType === 'contact_person' && values.organisationId
        ? Number(values.organisationId)
        : undefined,
  };
  return Object.fromEntries(Object.entries(body).filter(([, value]) => value !== undefined));
}

/**
 * A new person, registered under a purpose of the role that writes people (decision 1111): the
 * form shows only the fields that purpose covers; the server judges the rest, and its refusals are
 * said at the field they name, in the screen's language. A person already on record with the
 * address (decisions 0953, 1020) is one click away.
 */
export function NewPerson() {
  const { t } = useTranslation();
  const navigate = useNavigate();
  const queryClient = useQueryClient();
  const fitting = useScreenPurpose('newPerson');
  const purposes = useMyPurposes();
  // A staff member is registered with their account (Staff), not here: purposes of staff only go.
  const candidates = fitting.candidates.filter((candidate) => offeredTypes(candidate).length > 0);
  // The form names the purpose it registers under before anything is written: the best fitting
  // one is offered until another is picked (decision 1280 asks first only where a screen reads).
  const screen = {
    ...fitting,
    candidates,
    mustChoose: false,
    purpose: candidates.find((candidate) => candidate.key === fitting.purpose)?.key ?? candidates[0]?.key,
  };
  const purpose: PurposeInfo | undefined = purposes.data?.purposes.find(
    (candidate) => candidate.key === screen.purpose,
  );
  const covers = (category: string) => purpose?.categories.includes(category) ?? false;
  const types = purpose ? offeredTypes(purpose) : [];
  const form = useForm<Values>({
    initialValues: EMPTY,
    validate: {
      givenName: (value) => (value.trim() ? null : t('common.required')),
      familyName: (value) => (value.trim() ? null : t('common.required')),
    },
  });
  const subjectType = types.includes(form.values.subjectType) ? form.values.subjectType : (types[0] ?? '');
  const organisations = useQuery({
    queryKey: ['organisations', 'for-new-person'],
    enabled: subjectType === 'contact_person',
    queryFn: () =>
      api<{ items: Array<{ organisationId: number; name: string }> }>('GET', '/api/v1/organisations', {
        query: { limit: 200 },
      }),
  });
  const create = useMutation({
    mutationFn: (values: Values) =>
      api<Person>('POST', '/api/v1/people', {
        purpose: screen.purpose,
        body: bodyOf({ ...values, subjectType }, covers),
      }),
    onSuccess: async (person) => {
      notifySuccess(t('newPerson.created'));
      await queryClient.invalidateQueries({ queryKey: ['people'] });
      await navigate(`/people/${person.subjectId}`);
    },
    onError: (error) => {
      if (!(error instanceof ApiError)) return;
      for (const field of fieldsOfError(error)) form.setFieldError(field, fieldWords(error, field));
      if (error.code === 'duplicate_person') form.setFieldError('email', t('newPerson.duplicateField'));
    },
  });
  /** What a refusal says at a field: a hint of the field's form, the reason, or the code's words. */
  const fieldWords = (error: ApiError, field: string): string => {
    if (error.code === 'sensitive_data_refused') return t('newPerson.fieldError.sensitive');
    const words =
      error.code === 'validation_failed' ? '' : t(`problem.${error.code}.what`, { defaultValue: '' });
    return words || t(`newPerson.fieldError.${field}`, { defaultValue: t('newPerson.problem.title') });
  };
  // The fields on the screen now: a refusal of one of them is said under it (decision 1182).
  const shown = new Set<string>([
    'subjectType',
    'givenName',
    'familyName',
    ...(covers(CATEGORY.email) ? ['email'] : []),
    ...(covers(CATEGORY.phone) ? ['phone'] : []),
    ...(covers(CATEGORY.gender) ? ['gender'] : []),
    ...(covers(CATEGORY.language) ? ['preferredLanguage'] : []),
    ...(covers(CATEGORY.birthDate) ? ['birthDate'] : []),
    ...(covers(CATEGORY.address) ? ['street', 'postalCode', 'city', 'country'] : []),
    ...(covers(CATEGORY.job) ? ['jobTitle'] : []),
    ...(subjectType === 'contact_person' ? ['organisationId'] : []),
    ...(covers(CATEGORY.notes) ? ['notes'] : []),
  ]);
  const existing =
    create.error instanceof ApiError && create.error.code === 'duplicate_person'
      ? Number(create.error.details?.['existingSubjectId'])
      : undefined;
  const labels: Record<string, string> = {
    subjectType: t('newPerson.kind'),
    givenName: t('newPerson.givenName'),
    familyName: t('newPerson.familyName'),
    gender: t('newPerson.gender'),
    preferredLanguage: t('people.language'),
    email: t('people.email'),
    phone: t('people.phone'),
    birthDate: t('people.birthDate'),
    address: t('people.address'),
    jobTitle: t('people.jobTitle'),
    notes: t('people.notes'),
    organisationId: t('newPerson.organisation'),
  };
  return (
    <Stack maw={900}>
      <Anchor component={Link} to="/people" size="sm">
        ← {t('nav.people')}
      </Anchor>
      <Title order={1}>{t('newPerson.title')}</Title>
      <Text size="sm" c="dimmed">
        {t('newPerson.intro')}
      </Text>
      <PurposePicker state={screen} />
      {purpose ? (
        <Card withBorder>
          <form
            noValidate
            onSubmit={form.onSubmit((values) => create.mutate(values))}
            data-testid="new-person-form"
          >
            <Stack gap="sm">
              <Select
                label={labels.subjectType}
                description={t('newPerson.kindHelp')}
                required
                allowDeselect={false}
                data={types.map((type) => ({
                  value: type,
                  label: t(`subjectType.${type}`, { defaultValue: type }),
                }))}
                {...form.getInputProps('subjectType')}
                value={subjectType || null}
                onChange={(value: string | null) => form.setFieldValue('subjectType', value ?? '')}
              />
              <SimpleGrid cols={{ base: 1, sm: 2 }}>
                <TextInput label={labels.givenName} required {...form.getInputProps('givenName')} />
                <TextInput label={labels.familyName} required {...form.getInputProps('familyName')} />
              </SimpleGrid>
              {covers(CATEGORY.email) || covers(CATEGORY.phone) ? (
                <SimpleGrid cols={{ base: 1, sm: 2 }}>
                  {covers(CATEGORY.email) ? (
                    <TextInput type="email" label={labels.email} {...form.getInputProps('email')} />
                  ) : null}
                  {covers(CATEGORY.phone) ? (
                    <TextInput
                      type="tel"
                      label={labels.phone}
                      description={t('newPerson.phoneHelp')}
                      {...form.getInputProps('phone')}
                    />
                  ) : null}
                </SimpleGrid>
              ) : null}
              {covers(CATEGORY.gender) || covers(CATEGORY.language) || covers(CATEGORY.birthDate) ? (
                <SimpleGrid cols={{ base: 1, sm: 3 }}>
                  {covers(CATEGORY.gender) ? (
                    <Select
                      label={labels.gender}
                      clearable
                      data={['female', 'male', 'x'].map((value) => ({
                        value,
                        label: t(`newPerson.genders.${value}`),
                      }))}
                      {...form.getInputProps('gender')}
                    />
                  ) : null}
                  {covers(CATEGORY.language) ? (
                    <Select
                      label={labels.preferredLanguage}
                      clearable
                      data={['nl', 'fr', 'en', 'de'].map((value) => ({
                        value,
                        label: t(`newPerson.languages.${value}`),
                      }))}
                      {...form.getInputProps('preferredLanguage')}
                    />
                  ) : null}
                  {covers(CATEGORY.birthDate) ? (
                    <TextInput
                      type="date"
                      label={labels.birthDate}
                      description={t('newPerson.birthDateHelp')}
                      {...form.getInputProps('birthDate')}
                    />
                  ) : null}
                </SimpleGrid>
              ) : null}
              {covers(CATEGORY.address) ? (
                <Fieldset legend={labels.address}>
                  <SimpleGrid cols={{ base: 1, sm: 4 }}>
                    <TextInput label={t('newPerson.street')} {...form.getInputProps('street')} />
                    <TextInput label={t('newPerson.postalCode')} {...form.getInputProps('postalCode')} />
                    <TextInput label={t('newPerson.city')} {...form.getInputProps('city')} />
                    <TextInput
                      label={t('newPerson.country')}
                      description={t('newPerson.countryHelp')}
                      maxLength={2}
                      {...form.getInputProps('country')}
                    />
                  </SimpleGrid>
                </Fieldset>
              ) : null}
              {covers(CATEGORY.job) ? (
                <TextInput label={labels.jobTitle} {...form.getInputProps('jobTitle')} />
              ) : null}
              {subjectType === 'contact_person' ? (
                <Select
                  label={labels.organisationId}
                  description={t('newPerson.organisationHelp')}
                  clearable
                  searchable
                  data={(organisations.data?.items ?? []).map((organisation) => ({
                    value: String(organisation.organisationId),
                    label: organisation.name,
                  }))}
                  {...form.getInputProps('organisationId')}
                />
              ) : null}
              {covers(CATEGORY.notes) ? (
                <Textarea
                  label={labels.notes}
                  description={t('people.notesHelp')}
                  autosize
                  minRows={2}
                  {...form.getInputProps('notes')}
                />
              ) : null}
              <Text size="xs" c="dimmed">
                {t('newPerson.coveredNote')}
              </Text>
              {existing !== undefined && Number.isInteger(existing) ? (
                <Alert color="orange" title={t('problem.duplicate_person.what')} role="alert">
                  <Stack gap="xs">
                    <Text size="sm">{t('newPerson.duplicateText')}</Text>
                    <Group>
                      <Button component={Link} to={`/people/${existing}`} data-testid="open-existing">
                        {t('newPerson.openExisting', { id: existing })}
                      </Button>
                    </Group>
                  </Stack>
                </Alert>
              ) : create.error ? (
                <RegistrationProblem
                  error={create.error}
                  named={create.error instanceof ApiError ? namedFieldsOf(create.error) : []}
                  shown={shown}
                  labels={{
                    ...labels,
                    street: t('newPerson.street'),
                    postalCode: t('newPerson.postalCode'),
                    city: t('newPerson.city'),
                    country: t('newPerson.country'),
                  }}
                  wordsFor={(field) =>
                    create.error instanceof ApiError ? fieldWords(create.error, field) : ''
                  }
                />
              ) : null}
              <Group>
                <Button type="submit" loading={create.isPending}>
                  {t('newPerson.submit')}
                </Button>
                <Button variant="default" component={Link} to="/people">
                  {t('common.cancel')}
                </Button>
              </Group>
            </Stack>
          </form>
        </Card>
      ) : null}
    </Stack>
  );
}

/** The kinds of person a purpose registers here, the usual ones first. */
function offeredTypes(purpose: PurposeInfo): string[] {
  return purpose.subjectTypes.filter((type) => type !== 'staff').sort((a, b) => rank(a) - rank(b));
}

function rank(type: string): number {
  const index = TYPE_ORDER.indexOf(type);
  return index < 0 ? TYPE_ORDER.length : index;
}
