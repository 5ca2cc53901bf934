import './messages.js';
import { Button, Card, Group, Stack, Table, Text, Textarea, Title } from '@mantine/core';
import { useForm } from '@mantine/form';
import { useMutation, useQueryClient } from '@tanstack/react-query';
import { useTranslation } from 'react-i18next';
import { api } from '../../api/client.js';
import { CaptionedTable } from '../../ui/CaptionedTable.js';
import { formatMoment } from '../../ui/dates.js';
import { notifySuccess } from '../../ui/notify.js';
import { ProblemAlert } from '../../ui/ProblemAlert.js';
import type { Incident } from './api.js';

/** Every decision on the breach as it was taken, oldest first: who, when, why (decision 1070). */
export function DecisionHistory({ incident }: { incident: Incident }) {
  const { t } = useTranslation();
  return (
    <CaptionedTable
      caption={t('privacyWork.phases.decisions')}
      headers={[
        '#',
        t('privacyWork.phases.when'),
        t('privacyWork.phases.by'),
        t('privacyWork.phases.addressee'),
        t('privacyWork.phases.decision'),
        t('privacyWork.phases.reason'),
        t('privacyWork.phases.assessment'),
        t('privacyWork.phases.letters'),
      ]}
    >
      {incident.decisions.map((decision) => (
        <Table.Tr key={decision.decisionNo}>
          <Table.Td>{decision.decisionNo}</Table.Td>
          <Table.Td>{formatMoment(decision.decidedAt)}</Table.Td>
          <Table.Td>{decision.decidedByStaffId ?? '—'}</Table.Td>
          <Table.Td>{t(`privacyWork.phases.${decision.addressee}`)}</Table.Td>
          <Table.Td>{t(`privacyWork.phases.${decision.decision}`)}</Table.Td>
          <Table.Td>{decision.reason ?? '—'}</Table.Td>
          <Table.Td>{decision.assessmentNo ?? '—'}</Table.Td>
          <Table.Td>{decision.lettersQueued}</Table.Td>
        </Table.Tr>
      ))}
    </CaptionedTable>
  );
}

/**
 * A decision after the first one (decision 1070): the persons informed after not_inform (Art.
 * 34(4)), the authority notified after not_notified, or a notification supplemented (Art. 33(4)).
 */
function LaterDecision(props: {
  incident: Incident;
  path: 'persons-notification' | 'authority-notification';
  decision: 'inform' | 'notified' | 'supplemented';
  title: string;
  help: string;
  reasonLabel: string;
  reasonRequired: boolean;
  testId: string;
}) {
  const { t } = useTranslation();
  const queryClient = useQueryClient();
  const form = useForm({
    initialValues: { reason: '' },
    validate: { reason: (value) => (!props.reasonRequired || value.trim() ? null : t('common.required')) },
  });
  const decide = useMutation({
    mutationFn: (values: { reason: string }) =>
      api<Incident>('POST', `/api/v1/incidents/${props.incident.incidentId}/${props.path}`, {
        body: {
          decision: props.decision,
          ...(values.reason.trim() ? { reason: values.reason.trim() } : {}),
        },
      }),
    onSuccess: async () => {
      notifySuccess(t('incident.decided'));
      form.reset();
      await queryClient.invalidateQueries({ queryKey: ['incidents'] });
    },
  });
  return (
    <Card withBorder data-testid={props.testId}>
      <form onSubmit={form.onSubmit((values) => decide.mutate(values))} noValidate>
        <Stack gap="sm">
          <Title order={2} size="h4">
            {props.title}
          </Title>
          <Text size="sm" c="dimmed">
            {props.help}
          </Text>
          <Textarea
            label={props.reasonLabel}
            required={props.reasonRequired}
            autosize
            minRows={2}
            {...form.getInputProps('reason')}
          />
          {decide.error ? <ProblemAlert error={decide.error} /> : null}
          <Group>
            <Button type="submit" loading={decide.isPending}>
              {props.title}
            </Button>
          </Group>
        </Stack>
      </form>
    </Card>
  );
}

/** The later decisions the privacy officer may take on a decided breach. */
export function LaterDecisions({ incident }: { incident: Incident }) {
  const { t } = useTranslation();
  return (
    <>
      {incident.personsDecision === 'not_inform' ? (
        <LaterDecision
          incident={incident}
          path="persons-notification"
          decision="inform"
          title={t('privacyWork.phases.informAfterAll')}
          help={t('privacyWork.phases.informAfterAllHelp')}
          reasonLabel={t('privacyWork.phases.informReason')}
          reasonRequired
          testId="inform-after-all"
        />
      ) : null}
      {incident.authorityDecision === 'not_notified' ? (
        <LaterDecision
          incident={incident}
          path="authority-notification"
          decision="notified"
          title={t('privacyWork.phases.notifyAfterAll')}
          help={t('incident.notifyRequired')}
          reasonLabel={t('privacyWork.phases.notifyReason')}
          reasonRequired
          testId="notify-after-all"
        />
      ) : null}
      {incident.authorityDecision === 'notified' ? (
        <LaterDecision
          incident={incident}
          path="authority-notification"
          decision="supplemented"
          title={t('privacyWork.phases.supplement')}
          help={t('privacyWork.phases.supplementHelp')}
          reasonLabel={t('privacyWork.phases.supplementReason')}
          reasonRequired={false}
          testId="supplement-notification"
        />
      ) : null}
    </>
  );
}
