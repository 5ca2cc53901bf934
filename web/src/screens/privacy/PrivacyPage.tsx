import {
  Accordion,
  Alert,
  Anchor,
  Badge,
  Button,
  Card,
  Code,
  Group,
  Loader,
  Modal,
  SegmentedControl,
  Select,
  SimpleGrid,
  Stack,
  Table,
  Text,
  Textarea,
  Title,
} from '@mantine/core';
import { useForm } from '@mantine/form';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import type { ColumnDef } from '@tanstack/react-table';
import { useMemo, useState } from 'react';
import { useTranslation } from 'react-i18next';
import { useMe, type Localized } from '../../api/auth.js';
import { api, fetchText } from '../../api/client.js';
import { currentLanguage } from '../../i18n/index.js';
import { localized } from '../../purposes/usePurpose.js';
import { CaptionedTable } from '../../ui/CaptionedTable.js';
import { DataTable } from '../../ui/DataTable.js';
import { DecisionWithReason } from '../../ui/DecisionWithReason.js';
import { DocumentView, type GeneratedDocument } from '../../ui/DocumentView.js';
import { notifySuccess } from '../../ui/notify.js';
import { ProblemAlert } from '../../ui/ProblemAlert.js';
import { TabbedScreen } from '../../ui/TabbedScreen.js';
import { hoursLeft, onTheClock, useCases, useIncidents, type Incident } from './api.js';
import { AuthorityRequests } from './authority/AuthorityRequests.js';
import { DisclosureLog } from './disclosures/DisclosureLog.js';
import { DecisionHistory, LaterDecisions } from './IncidentPhases.js';
import { AffectedCategories, PersonsNotification } from './PersonsNotification.js';
import { dayCell, formatDay, formatMoment } from '../../ui/dates.js';

/**
 * The privacy officer's registers: incidents on their 72-hour clock, authorities' requests (four
 * eyes), the recipients of the policy, retention (the sweep's plan and the cases that hold people)
 * and the record of processing activities. Each route acts under its own fixed purpose on the
 * server; a refusal says so in words.
 */
export function PrivacyScreen() {
  const { t } = useTranslation();
  return (
    <TabbedScreen
      title={t('nav.privacy')}
      tabs={[
        { value: 'incidents', label: t('privacy.incidents'), panel: <Incidents /> },
        { value: 'authorities', label: t('privacy.authorities'), panel: <AuthorityRequests /> },
        { value: 'recipients', label: t('privacy.recipients'), panel: <Recipients /> },
        { value: 'retention', label: t('privacy.retention'), panel: <Retention /> },
        { value: 'register', label: t('privacy.register'), panel: <Register /> },
      ]}
    />
  );
}

const dateTime = (iso: string | null): string => (iso ? formatMoment(iso) : '—');

/** The 72-hour clock of a breach in words and colour. */
export function ClockBadge({ incident }: { incident: Incident }) {
  const { t } = useTranslation();
  if (!incident.isBreach) return <Text size="sm">{t('incident.notBreach')}</Text>;
  if (!incident.deadline) return <Text size="sm">{t('incident.notAssessed')}</Text>;
  if (incident.authorityDecision !== 'pending')
    return (
      <Badge color="teal.9" tt="none">
        {t(`incident.authority.${incident.authorityDecision}`)}
      </Badge>
    );
  const hours = hoursLeft(incident.deadline);
  return (
    <Badge color={hours < 0 ? 'red.9' : 'yellow.5'} tt="none">
      {hours < 0 ? t('incident.late', { count: -hours }) : t('incident.hoursLeft', { count: hours })}
    </Badge>
  );
}

function Incidents() {
  const { t } = useTranslation();
  const incidents = useIncidents();
  const [open, setOpen] = useState<number | undefined>();
  const [reporting, setReporting] = useState(false);
  const columns = useMemo<ColumnDef<Incident, unknown>[]>(
    () => [
      {
        id: 'id',
        header: '#',
        accessorKey: 'incidentId',
        cell: ({ row }) => (
          <Button variant="subtle" size="compact-sm" onClick={() => setOpen(row.original.incidentId)}>
            {t('incident.open', { id: row.original.incidentId })}
          </Button>
        ),
      },
      { id: 'kind', header: t('incident.kind'), accessorFn: (row) => t(`incidentKind.${row.kind}`) },
      { id: 'noticed', header: t('incident.noticed'), accessorFn: (row) => dateTime(row.noticedAt) },
      {
        id: 'description',
        header: t('incident.description'),
        accessorFn: (row) =>
          row.description.length > 80 ? `${row.description.slice(0, 80)}…` : row.description,
      },
      {
        id: 'clock',
        header: t('incident.clock'),
        accessorFn: (row) => row.deadline ?? '',
        cell: ({ row }) => <ClockBadge incident={row.original} />,
      },
      { id: 'affected', header: t('incident.affected'), accessorKey: 'affectedCount' },
    ],
    [t],
  );
  const current = incidents.data?.find((incident) => incident.incidentId === open);
  return (
    <Stack>
      <Group>
        <Button onClick={() => setReporting(true)}>{t('incident.report')}</Button>
      </Group>
      {incidents.error ? <ProblemAlert error={incidents.error} /> : null}
      <DataTable
        data={incidents.data ?? []}
        columns={columns}
        caption={t('incident.caption')}
        initialSorting={[{ id: 'id', desc: true }]}
        rowTestId={(row) => `incident-${row.incidentId}`}
      />
      <Modal
        opened={reporting}
        onClose={() => setReporting(false)}
        title={t('incident.report')}
        size="lg"
        closeButtonProps={{ 'aria-label': t('common.close') }}
      >
        <ReportIncident onDone={() => setReporting(false)} />
      </Modal>
      <Modal
        opened={current !== undefined}
        onClose={() => setOpen(undefined)}
        title={current ? t('incident.title', { id: current.incidentId }) : ''}
        size="xl"
        closeButtonProps={{ 'aria-label': t('common.close') }}
      >
        {current ? <IncidentDetail incident={current} /> : null}
      </Modal>
    </Stack>
  );
}

const KINDS = ['breach', 'misuse', 'insecurity', 'other'] as const;

function ReportIncident({ onDone }: { onDone: () => void }) {
  const { t } = useTranslation();
  const queryClient = useQueryClient();
  const form = useForm({
    initialValues: { kind: 'breach', description: '' },
    validate: {
      description: (value) => (value.trim().length >= 10 ? null : t('incident.descriptionLength')),
    },
  });
  const report = useMutation({
    mutationFn: (values: { kind: string; description: string }) =>
      api<{ incidentId: number }>('POST', '/api/v1/incidents', { body: values }),
    onSuccess: async (answer) => {
      notifySuccess(t('incident.reported', { id: answer.incidentId }));
      await queryClient.invalidateQueries({ queryKey: ['incidents'] });
      onDone();
    },
  });
  return (
    <form onSubmit={form.onSubmit((values) => report.mutate(values))} noValidate>
      <Stack>
        <Select
          label={t('incident.kind')}
          allowDeselect={false}
          data={KINDS.map((kind) => ({ value: kind, label: t(`incidentKind.${kind}`) }))}
          {...form.getInputProps('kind')}
        />
        <Textarea
          label={t('incident.description')}
          description={t('incident.descriptionHelp')}
          required
          autosize
          minRows={3}
          {...form.getInputProps('description')}
        />
        {report.error ? <ProblemAlert error={report.error} /> : null}
        <Group>
          <Button type="submit" loading={report.isPending}>
            {t('incident.reportSubmit')}
          </Button>
        </Group>
      </Stack>
    </form>
  );
}

function IncidentDetail({ incident }: { incident: Incident }) {
  const { t } = useTranslation();
  const facts: Array<[string, string]> = [
    [t('incident.kind'), t(`incidentKind.${incident.kind}`)],
    [t('incident.source'), t(`incidentSource.${incident.source}`, { defaultValue: incident.source })],
    [t('incident.noticed'), dateTime(incident.noticedAt)],
    [t('incident.aware'), dateTime(incident.awareAt)],
    [t('incident.deadline'), dateTime(incident.deadline)],
    [t('incident.risk'), incident.risk ? t(`risk.${incident.risk}`) : '—'],
    [t('incident.affected'), String(incident.affectedCount)],
    [t('incident.persons'), t(`incident.personsDecision.${incident.personsDecision}`)],
  ];
  return (
    <Stack data-testid="incident-detail">
      <Group>
        <ClockBadge incident={incident} />
      </Group>
      <Text size="sm">{incident.description}</Text>
      <Card withBorder>
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
      {incident.whatHappened !== null ? (
        <div>
          <Text size="xs" c="dimmed">
            {t('incident.whatHappened')}
          </Text>
          <Text size="sm" style={{ whiteSpace: 'pre-line' }}>
            {incident.whatHappened}
          </Text>
        </div>
      ) : null}
      {incident.assessments.length > 0 ? <AssessmentHistory incident={incident} /> : null}
      {incident.assessmentNo === 0 ? <Assessment incident={incident} /> : null}
      {incident.decisions.length > 0 ? <DecisionHistory incident={incident} /> : null}
      {incident.assessmentNo > 0 ? <ReviseAssessment incident={incident} /> : null}
      {onTheClock(incident) ? <AuthorityNotification incident={incident} /> : null}
      {incident.isBreach && incident.authorityDecision === 'notified' ? (
        <SentNotification incident={incident} />
      ) : null}
      {incident.isBreach && incident.deadline !== null ? <PersonsNotification incident={incident} /> : null}
      {incident.isBreach ? <LaterDecisions incident={incident} /> : null}
      {incident.authorityReason ? (
        <Alert color="gray" title={t('incident.authority.' + incident.authorityDecision)}>
          {incident.authorityReason}
        </Alert>
      ) : null}
    </Stack>
  );
}

/**
 * After the authority or the persons decision a revision is a later phase (decision 1070): it may
 * widen the breach, never narrow it, and says what was learnt (the server's rule).
 */
const decidedOn = (incident: Incident): boolean =>
  incident.personsDecision !== 'pending' || incident.authorityDecision !== 'pending';

/** Every assessment as it was made, oldest first: a lowered one shows why (GDPR Art. 33(5)). */
function AssessmentHistory({ incident }: { incident: Incident }) {
  const { t } = useTranslation();
  return (
    <CaptionedTable
      caption={t('incident.history')}
      headers={[
        '#',
        t('incident.assessedAt'),
        t('incident.isBreach'),
        t('incident.risk'),
        t('incident.riskAssessment'),
        t('incident.measures'),
        t('incident.changeReason'),
      ]}
    >
      {incident.assessments.map((assessment) => (
        <Table.Tr key={assessment.assessmentNo}>
          <Table.Td>{assessment.assessmentNo}</Table.Td>
          <Table.Td>{dateTime(assessment.assessedAt)}</Table.Td>
          <Table.Td>{assessment.isBreach ? t('incident.breachYes') : t('incident.breachNo')}</Table.Td>
          <Table.Td>{t(`risk.${assessment.risk}`)}</Table.Td>
          <Table.Td>{assessment.riskAssessment}</Table.Td>
          <Table.Td>{assessment.measures}</Table.Td>
          <Table.Td>{assessment.changeReason ?? '—'}</Table.Td>
        </Table.Tr>
      ))}
    </CaptionedTable>
  );
}

/** A revision starts from the latest assessment, behind a button: it is the exception. */
function ReviseAssessment({ incident }: { incident: Incident }) {
  const { t } = useTranslation();
  const [open, setOpen] = useState(false);
  if (!open) {
    return (
      <Group>
        <Button variant="default" onClick={() => setOpen(true)}>
          {t('incident.revise')}
        </Button>
      </Group>
    );
  }
  return <Assessment incident={incident} onDone={() => setOpen(false)} />;
}

interface AssessmentValues {
  isBreach: string;
  risk: string;
  riskAssessment: string;
  measures: string;
  affectedCategories: string[];
  /** Kept as the latest assessment had them: the screen does not choose tables. */
  affectedTables: string[];
  whatHappened: string;
  changeReason: string;
}

function startingValues(incident: Incident): AssessmentValues {
  const latest = incident.assessments.at(-1);
  if (!latest) {
    return {
      isBreach: 'yes',
      risk: 'low',
      riskAssessment: '',
      measures: '',
      affectedCategories: [],
      affectedTables: [],
      whatHappened: '',
      changeReason: '',
    };
  }
  return {
    isBreach: latest.isBreach ? 'yes' : 'no',
    risk: latest.risk,
    riskAssessment: latest.riskAssessment,
    measures: latest.measures,
    affectedCategories: latest.affectedCategories,
    affectedTables: latest.affectedTables,
    whatHappened: latest.whatHappened ?? '',
    changeReason: '',
  };
}

/**
 * Breach or not, risk and measures; a breach starts the 72-hour clock now (GDPR Art. 33). A
 * revision names the assessment it revises, so a colleague's newer one is never replaced unseen.
 */
function Assessment({ incident, onDone }: { incident: Incident; onDone?: () => void }) {
  const { t } = useTranslation();
  const queryClient = useQueryClient();
  const revising = incident.assessmentNo > 0;
  const form = useForm<AssessmentValues>({
    initialValues: startingValues(incident),
    validate: {
      riskAssessment: (value) => (value.trim() ? null : t('common.required')),
      measures: (value) => (value.trim() ? null : t('common.required')),
      // The letters and the notification say it (decision 0895).
      whatHappened: (value, values) =>
        values.isBreach === 'no' || value.trim() ? null : t('common.required'),
    },
  });
  const assess = useMutation({
    mutationFn: (values: AssessmentValues) =>
      api<Incident>('POST', `/api/v1/incidents/${incident.incidentId}/assessment`, {
        body: {
          isBreach: values.isBreach === 'yes',
          risk: values.risk,
          riskAssessment: values.riskAssessment,
          measures: values.measures,
          affectedCategories: values.affectedCategories,
          affectedTables: values.affectedTables,
          ...(values.whatHappened.trim() ? { whatHappened: values.whatHappened } : {}),
          ...(revising ? { revises: incident.assessmentNo } : {}),
          ...(values.changeReason.trim() ? { changeReason: values.changeReason } : {}),
        },
      }),
    onSuccess: async () => {
      notifySuccess(t('incident.assessed'));
      await queryClient.invalidateQueries({ queryKey: ['incidents'] });
      onDone?.();
    },
  });
  return (
    <Card withBorder>
      <form onSubmit={form.onSubmit((values) => assess.mutate(values))} noValidate>
        <Stack gap="sm">
          <Title order={2} size="h4">
            {revising ? t('incident.revise') : t('incident.assess')}
          </Title>
          <Text size="sm" c="dimmed">
            {t('incident.assessHelp')}
          </Text>
          <SegmentedControl
            aria-label={t('incident.isBreach')}
            data={[
              { value: 'yes', label: t('incident.breachYes') },
              { value: 'no', label: t('incident.breachNo') },
            ]}
            w="fit-content"
            {...form.getInputProps('isBreach')}
            onChange={(value: string) => {
              form.setFieldValue('isBreach', value);
              // No breach, no risk for the persons (the server's rule, decision 0842).
              if (value === 'no') form.setFieldValue('risk', 'none');
            }}
          />
          <AffectedCategories {...form.getInputProps('affectedCategories')} />
          <Select
            label={t('incident.risk')}
            disabled={form.values.isBreach === 'no'}
            allowDeselect={false}
            data={(['none', 'low', 'high'] as const).map((risk) => ({
              value: risk,
              label: t(`risk.${risk}`),
            }))}
            {...form.getInputProps('risk')}
          />
          <Textarea
            label={t('incident.whatHappened')}
            description={t('incident.whatHappenedHelp')}
            required={form.values.isBreach === 'yes'}
            autosize
            minRows={3}
            {...form.getInputProps('whatHappened')}
          />
          <Textarea
            label={t('incident.riskAssessment')}
            required
            autosize
            minRows={2}
            {...form.getInputProps('riskAssessment')}
          />
          <Textarea
            label={t('incident.measures')}
            required
            autosize
            minRows={2}
            {...form.getInputProps('measures')}
          />
          {revising && decidedOn(incident) ? (
            <Alert color="orange" data-testid="later-phase">
              {t('privacyWork.phases.laterPhase')}
            </Alert>
          ) : null}
          {revising ? (
            <Textarea
              label={t('incident.changeReason')}
              required={decidedOn(incident)}
              description={t('incident.changeReasonHelp')}
              autosize
              minRows={2}
              {...form.getInputProps('changeReason')}
            />
          ) : null}
          {assess.error ? <ProblemAlert error={assess.error} /> : null}
          <Group>
            <Button type="submit" loading={assess.isPending}>
              {t('incident.assessSubmit')}
            </Button>
          </Group>
        </Stack>
      </form>
    </Card>
  );
}

interface Draft {
  language: 'nl' | 'fr';
  deadline: string;
  hoursLeft: number;
  subject: string;
  text: string;
}

/** The notification for the authority in Dutch or French, drafted by the server from the latest assessment. */
function NotificationDraft({ incident }: { incident: Incident }) {
  const { t } = useTranslation();
  const [lang, setLang] = useState<'nl' | 'fr'>('nl');
  const draft = useQuery({
    queryKey: ['incident-draft', incident.incidentId, lang],
    queryFn: () =>
      api<Draft>('GET', `/api/v1/incidents/${incident.incidentId}/notification-draft`, { query: { lang } }),
  });
  return (
    <>
      <SegmentedControl
        aria-label={t('incident.draftLanguage')}
        value={lang}
        onChange={(value) => setLang(value === 'fr' ? 'fr' : 'nl')}
        data={[
          { value: 'nl', label: 'Nederlands' },
          { value: 'fr', label: 'Français' },
        ]}
        w="fit-content"
      />
      {draft.error ? <ProblemAlert error={draft.error} /> : null}
      {draft.data ? (
        <Code
          block
          tabIndex={0}
          aria-label={t('incident.draft')}
          data-testid="incident-draft"
          mah={260}
          style={{ whiteSpace: 'pre-wrap', overflow: 'auto' }}
        >
          {`${draft.data.subject}\n\n${draft.data.text}`}
        </Code>
      ) : null}
    </>
  );
}

/** The notification for the authority as drafted, then: notified, or not with the reason kept. */
function AuthorityNotification({ incident }: { incident: Incident }) {
  const { t } = useTranslation();
  const queryClient = useQueryClient();
  const form = useForm({ initialValues: { decision: 'notified', reason: '' } });
  const decide = useMutation({
    mutationFn: (values: { decision: string; reason: string }) =>
      api<Incident>('POST', `/api/v1/incidents/${incident.incidentId}/authority-notification`, {
        body: values.decision === 'notified' ? { decision: 'notified' } : values,
      }),
    onSuccess: async () => {
      notifySuccess(t('incident.decided'));
      await queryClient.invalidateQueries({ queryKey: ['incidents'] });
    },
  });
  return (
    <Card withBorder>
      <Stack gap="sm">
        <Title order={2} size="h4">
          {t('incident.draft')}
        </Title>
        <NotificationDraft incident={incident} />
        <form onSubmit={form.onSubmit((values) => decide.mutate(values))} noValidate>
          <Stack gap="sm">
            <DecisionWithReason
              form={form}
              label={t('incident.authorityDecision')}
              choices={[
                { value: 'notified', label: t('incident.authority.notified') },
                {
                  value: 'not_notified',
                  label: t('incident.authority.not_notified'),
                  disabled: incident.risk !== 'none',
                },
              ]}
              reasonFor="not_notified"
              reasonLabel={t('incident.notNotifiedReason')}
              reasonHelp={t('incident.notNotifiedHelp')}
            />
            {incident.risk !== 'none' ? (
              <Text size="sm" c="dimmed">
                {t('incident.notifyRequired')}
              </Text>
            ) : null}
            {decide.error ? <ProblemAlert error={decide.error} /> : null}
            <Group>
              <Button type="submit" loading={decide.isPending}>
                {t('incident.record')}
              </Button>
            </Group>
          </Stack>
        </form>
      </Stack>
    </Card>
  );
}

/**
 * After the authority is notified the draft stays readable, folded away, so the officer sees what
 * was sent (decision 1070 drafts it from the latest assessment: after a revision, the supplement).
 */
function SentNotification({ incident }: { incident: Incident }) {
  const { t } = useTranslation();
  const [opened, setOpened] = useState<string | null>(null);
  return (
    <Accordion variant="contained" value={opened} onChange={setOpened} data-testid="sent-notification">
      <Accordion.Item value="draft">
        <Accordion.Control>{t('privacyWork.phases.sentDraft')}</Accordion.Control>
        <Accordion.Panel>
          {/* Asked for only when unfolded. */}
          {opened === 'draft' ? (
            <Stack gap="sm">
              <Text size="sm" c="dimmed">
                {t('privacyWork.phases.sentDraftHelp')}
              </Text>
              <NotificationDraft incident={incident} />
            </Stack>
          ) : null}
        </Accordion.Panel>
      </Accordion.Item>
    </Accordion>
  );
}

interface Recipient {
  key: string;
  label: string;
  /** The name in each language: the screen's own is shown. */
  labels: Localized;
  kind: string;
  country: string;
  agreement: { reference: string; date: string } | null;
  transferSafeguard: string | null;
  categories: string[];
  purposes: string[];
}

function Recipients() {
  const { t } = useTranslation();
  const list = useQuery({
    queryKey: ['recipients'],
    queryFn: async () => (await api<{ items: Recipient[] }>('GET', '/api/v1/recipients')).items,
  });
  const columns = useMemo<ColumnDef<Recipient, unknown>[]>(
    () => [
      { id: 'label', header: t('recipients.label'), accessorFn: (row) => localized(row.labels, row.label) },
      {
        id: 'kind',
        header: t('recipients.kind'),
        accessorFn: (row) => t(`recipientKind.${row.kind}`, { defaultValue: row.kind }),
      },
      { id: 'country', header: t('recipients.country'), accessorKey: 'country' },
      {
        id: 'agreement',
        header: t('recipients.agreement'),
        accessorFn: (row) =>
          row.agreement ? `${row.agreement.reference} (${formatDay(row.agreement.date)})` : '—',
      },
      { id: 'categories', header: t('recipients.categories'), accessorFn: (row) => row.categories.length },
    ],
    [t],
  );
  return (
    <Stack>
      <Text size="sm" c="dimmed">
        {t('recipients.intro')}
      </Text>
      {list.error ? <ProblemAlert error={list.error} /> : null}
      <DataTable data={list.data ?? []} columns={columns} caption={t('recipients.caption')} />
      <DisclosureLog
        recipients={(list.data ?? []).map((recipient) => ({
          key: recipient.key,
          label: localized(recipient.labels, recipient.label),
        }))}
      />
    </Stack>
  );
}

interface PlanPerson {
  pseudonym: string;
  subjectType: string;
  scope: 'person' | 'categories';
  categories: Array<{ category: string; rule: string; purpose: string; dueOn: string }>;
  held: boolean;
  holds: Array<{ kind: string }>;
}

interface Plan {
  asOf: string;
  people: PlanPerson[];
  documentsReleased: number;
}

/** The sweep's dry run in numbers, and the cases that hold people (with their end). */
function Retention() {
  const { t } = useTranslation();
  const plan = useQuery({
    queryKey: ['retention-plan'],
    queryFn: () => api<Plan>('GET', '/api/v1/retention/plan'),
  });
  const cases = useCases();
  const people = plan.data?.people ?? [];
  const held = people.filter((person) => person.held).length;
  const whole = people.filter((person) => !person.held && person.scope === 'person').length;
  const partly = people.filter((person) => !person.held && person.scope === 'categories').length;
  return (
    <Stack>
      <Text size="sm" c="dimmed">
        {t('retention.intro')}
      </Text>
      {plan.error ? <ProblemAlert error={plan.error} /> : null}
      {plan.isPending ? <Loader size="sm" aria-label={t('common.loading')} /> : null}
      {plan.data ? (
        <SimpleGrid cols={{ base: 1, sm: 3 }} data-testid="retention-plan">
          <Card withBorder>
            <Text size="xs" c="dimmed">
              {t('retention.whole')}
            </Text>
            <Text fw={700} size="xl">
              {whole}
            </Text>
          </Card>
          <Card withBorder>
            <Text size="xs" c="dimmed">
              {t('retention.partly')}
            </Text>
            <Text fw={700} size="xl">
              {partly}
            </Text>
          </Card>
          <Card withBorder>
            <Text size="xs" c="dimmed">
              {t('retention.held')}
            </Text>
            <Text fw={700} size="xl">
              {held}
            </Text>
          </Card>
        </SimpleGrid>
      ) : null}
      <Title order={2} size="h4">
        {t('retention.cases')}
      </Title>
      {cases.error ? <ProblemAlert error={cases.error} /> : null}
      <DataTable
        data={cases.data ?? []}
        columns={[
          { id: 'name', header: t('retention.caseName'), accessorKey: 'name' },
          { id: 'people', header: t('retention.people'), accessorKey: 'people' },
          { id: 'endsOn', header: t('retention.endsOn'), accessorKey: 'endsOn', cell: dayCell },
          {
            id: 'active',
            header: t('retention.state'),
            accessorFn: (row) => (row.active ? t('retention.active') : t('retention.released')),
          },
        ]}
        caption={t('retention.casesCaption')}
        initialSorting={[{ id: 'endsOn', desc: false }]}
      />
    </Stack>
  );
}

/** The record of processing activities (Art. 30) as the policy generates it, and the statement. */
function Register() {
  const { t } = useTranslation();
  const me = useMe();
  const lang = currentLanguage();
  const register = useQuery({
    queryKey: ['register', lang],
    queryFn: () => api<GeneratedDocument>('GET', '/api/v1/policy/register/document', { query: { lang } }),
  });
  const downloadCsv = async () => {
    const csv = await fetchText('/api/v1/policy/register', { query: { format: 'csv', lang } });
    const url = URL.createObjectURL(new Blob([csv], { type: 'text/csv' }));
    const link = document.createElement('a');
    link.href = url;
    link.download = `register-${me.data?.tenant ?? 'kluis'}-${lang}.csv`;
    link.click();
    setTimeout(() => URL.revokeObjectURL(url), 1000);
  };
  return (
    <Stack>
      <Group>
        <Button variant="default" onClick={() => void downloadCsv()}>
          {t('register.csv')}
        </Button>
        {me.data ? (
          <Anchor href={`/t/${encodeURIComponent(me.data.tenant)}/privacy?lang=${lang}`} target="_blank">
            {t('register.statement')}
          </Anchor>
        ) : null}
      </Group>
      {register.error ? <ProblemAlert error={register.error} /> : null}
      {register.data ? (
        <div data-testid="register">
          {/* Column 1 is the purpose's name: each purpose is one titled table of its register entry. */}
          <DocumentView document={register.data} rowTitleColumn={1} />
        </div>
      ) : null}
    </Stack>
  );
}
