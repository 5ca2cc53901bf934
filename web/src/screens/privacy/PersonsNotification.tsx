import './messages.js';
import { Alert, Button, Card, Checkbox, Group, SimpleGrid, Stack, Text, Title } from '@mantine/core';
import { useForm } from '@mantine/form';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useTranslation } from 'react-i18next';
import { useMyPurposes } from '../../api/auth.js';
import { api } from '../../api/client.js';
import { DecisionWithReason } from '../../ui/DecisionWithReason.js';
import { notifySuccess } from '../../ui/notify.js';
import { ProblemAlert } from '../../ui/ProblemAlert.js';
import type { Incident } from './api.js';
import { categoryLabel } from './categories.js';

type Decision = 'inform' | 'not_inform';

interface Answer extends Incident {
  lettersSent: number;
  lettersWaiting: number;
  lettersWithoutAddress: number;
  personsNotReached: number;
}

const lettersLine = (answer: Answer) => ({
  sent: answer.lettersSent,
  waiting: answer.lettersWaiting,
  missing: answer.lettersWithoutAddress,
});

/**
 * GDPR Art. 34 for an assessed breach: inform the persons the data map found (a letter to each,
 * in their language, once; the server's letter outbox sends them and retries what the mail server
 * refuses for now) or record why not.
 */
export function PersonsNotification({ incident }: { incident: Incident }) {
  const { t } = useTranslation();
  const queryClient = useQueryClient();
  const form = useForm<{ decision: Decision; reason: string }>({
    initialValues: { decision: incident.risk === 'high' ? 'inform' : 'not_inform', reason: '' },
    validate: {
      reason: (value, values) => (values.decision === 'inform' || value.trim() ? null : t('common.required')),
    },
  });
  const decide = useMutation({
    mutationFn: (values: { decision: Decision; reason: string }) =>
      api<Answer>('POST', `/api/v1/incidents/${incident.incidentId}/persons-notification`, {
        body:
          values.decision === 'inform'
            ? { decision: 'inform' }
            : { decision: values.decision, reason: values.reason.trim() },
      }),
    onSuccess: async (answer) => {
      notifySuccess(
        answer.personsDecision === 'inform'
          ? t('privacyWork.persons.sent', lettersLine(answer))
          : t('incident.decided'),
      );
      await queryClient.invalidateQueries({ queryKey: ['incidents'] });
    },
  });
  const decided = incident.personsDecision !== 'pending';
  return (
    <Card withBorder data-testid="persons-notification">
      <Stack gap="sm">
        <Title order={2} size="h4">
          {t('privacyWork.persons.title')}
        </Title>
        <Text size="sm" c="dimmed">
          {t('privacyWork.persons.intro')}
        </Text>
        <Text size="sm" fw={700}>
          {incident.affectedCount > 0
            ? t('privacyWork.persons.affected', { count: incident.affectedCount })
            : t('privacyWork.persons.noneAffected')}
        </Text>
        {decide.data && decide.data.personsDecision === 'inform' ? (
          <Alert color="teal" role="status" data-testid="letters-sent">
            {t('privacyWork.persons.sent', lettersLine(decide.data))}
          </Alert>
        ) : null}
        {decide.data && decide.data.personsNotReached > 0 ? (
          <Alert color="orange" role="alert" data-testid="persons-not-reached">
            {t('privacyWork.persons.notReached', { count: decide.data.personsNotReached })}
          </Alert>
        ) : null}
        {decide.error ? <ProblemAlert error={decide.error} /> : null}
        {decided ? (
          <Stack gap="xs">
            <Text size="sm">
              {t('privacyWork.persons.decided', {
                decision: t(`incident.personsDecision.${incident.personsDecision}`),
              })}
            </Text>
            {incident.personsReason ? <Alert color="gray">{incident.personsReason}</Alert> : null}
            {incident.personsDecision === 'inform' ? (
              <Group>
                <Button
                  variant="default"
                  loading={decide.isPending}
                  onClick={() => decide.mutate({ decision: 'inform', reason: '' })}
                >
                  {t('privacyWork.persons.resend')}
                </Button>
              </Group>
            ) : null}
          </Stack>
        ) : (
          <form onSubmit={form.onSubmit((values) => decide.mutate(values))} noValidate>
            <Stack gap="sm">
              <DecisionWithReason
                form={form}
                label={t('privacyWork.persons.choice')}
                choices={[
                  { value: 'inform', label: t('privacyWork.persons.inform') },
                  {
                    value: 'not_inform',
                    label: t('privacyWork.persons.notInform'),
                    disabled: incident.risk === 'high',
                  },
                ]}
                reasonFor="not_inform"
                reasonLabel={t('privacyWork.persons.reason')}
                reasonHelp={t('privacyWork.persons.reasonHelp')}
              />
              <Group>
                <Button type="submit" loading={decide.isPending}>
                  {form.values.decision === 'inform'
                    ? t('privacyWork.persons.submit')
                    : t('privacyWork.persons.submitNotInform')}
                </Button>
              </Group>
            </Stack>
          </form>
        )}
      </Stack>
    </Card>
  );
}

/**
 * The data categories an assessment may name: those of the role's purposes and of the policy's
 * recipients (the policy's own list is not in the API), each in words.
 */
export function AffectedCategories(props: {
  value?: string[];
  onChange?: (value: string[]) => void;
  error?: React.ReactNode;
}) {
  const { t } = useTranslation();
  const purposes = useMyPurposes();
  const recipients = useQuery({
    queryKey: ['recipients'],
    queryFn: async () =>
      (await api<{ items: Array<{ categories: string[] }> }>('GET', '/api/v1/recipients')).items,
  });
  const categories = new Set<string>([
    ...(purposes.data?.purposes ?? []).flatMap((purpose) => purpose.categories),
    ...(recipients.data ?? []).flatMap((recipient) => recipient.categories),
  ]);
  const options = [...categories]
    .map((category) => ({ value: category, label: categoryLabel(t, category) }))
    .sort((a, b) => a.label.localeCompare(b.label));
  return (
    <Checkbox.Group
      label={t('privacyWork.assessment.categories')}
      description={t('privacyWork.assessment.categoriesHelp')}
      {...props}
    >
      <SimpleGrid cols={{ base: 1, sm: 2 }} spacing={6} mt="xs">
        {options.map((option) => (
          <Checkbox key={option.value} value={option.value} label={option.label} />
        ))}
      </SimpleGrid>
    </Checkbox.Group>
  );
}
