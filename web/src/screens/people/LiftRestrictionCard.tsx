import { Alert, Button, Card, Checkbox, Group, Select, Stack, Text, Title } from '@mantine/core';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useState } from 'react';
import { useTranslation } from 'react-i18next';
import { useMyPurposes } from '../../api/auth.js';
import { api, ApiError } from '../../api/client.js';
import { formatDay } from '../../ui/dates.js';
import { ProblemAlert } from '../../ui/ProblemAlert.js';

const GROUNDS = ['accuracy_verified', 'objection_decided', 'legal_claim_ended', 'person_asked'] as const;
type Ground = (typeof GROUNDS)[number];

/**
 * Art. 18(3): a person's restriction and its lifting, for the roles that hold the rights-requests
 * purpose (the privacy officer), whatever purpose the screen reads under. The person is e-mailed
 * first; the restriction ends the next day.
 */
export function LiftRestrictionCard({ subjectId }: { subjectId: number }) {
  const { t } = useTranslation();
  const purposes = useMyPurposes();
  const allowed = purposes.data?.purposes.some((purpose) => purpose.key === 'rights_requests') ?? false;
  const queryClient = useQueryClient();
  const [ground, setGround] = useState<Ground | null>(null);
  // Confirmed after the server said the person has no e-mail address to be told at (Art. 18(3)).
  const [informedByPost, setInformedByPost] = useState(false);
  const state = useQuery({
    queryKey: ['restriction', subjectId],
    enabled: allowed,
    queryFn: () =>
      api<{ restricted: boolean; restrictedSince: string | null; liftOn: string | null }>(
        'GET',
        `/api/v1/requests/restrictions/${subjectId}`,
      ),
  });
  const lift = useMutation({
    mutationFn: (chosen: Ground) =>
      api<{ liftOn: string }>('POST', `/api/v1/requests/restrictions/${subjectId}/lift`, {
        body: informedByPost ? { ground: chosen, informedByPost } : { ground: chosen },
      }),
    // The audit trail below shows the lifting too.
    onSuccess: () =>
      Promise.all([
        queryClient.invalidateQueries({ queryKey: ['restriction', subjectId] }),
        queryClient.invalidateQueries({ queryKey: ['audit-trail', subjectId] }),
      ]),
  });
  if (!allowed || !state.data?.restricted) return null;
  const liftOn = state.data.liftOn;
  const noContact = lift.error instanceof ApiError && lift.error.details?.['reason'] === 'no_contact_on_file';
  return (
    <Card withBorder data-testid="lift-restriction">
      <Stack gap="sm">
        <Title order={2} size="h4">
          {t('liftRestriction.title')}
        </Title>
        <Text fw={500} data-testid="restricted-since">
          {t('liftRestriction.since', { day: formatDay(state.data.restrictedSince) })}
        </Text>
        <Text size="sm" c="dimmed">
          {t('liftRestriction.intro')}
        </Text>
        {liftOn ? (
          <Alert color="green">{t('liftRestriction.done', { day: formatDay(liftOn) })}</Alert>
        ) : (
          <>
            {noContact ? (
              <Alert color="yellow" data-testid="no-contact">
                <Stack gap="xs">
                  <Text size="sm">{t('liftRestriction.noContact')}</Text>
                  <Checkbox
                    label={t('liftRestriction.informedByPost')}
                    checked={informedByPost}
                    onChange={(event) => setInformedByPost(event.currentTarget.checked)}
                  />
                </Stack>
              </Alert>
            ) : null}
            <Group align="flex-end">
              <Select
                label={t('liftRestriction.ground')}
                data={GROUNDS.map((value) => ({ value, label: t(`liftRestriction.grounds.${value}`) }))}
                value={ground}
                onChange={(value) => setGround(GROUNDS.find((item) => item === value) ?? null)}
                w={360}
              />
              <Button
                disabled={ground === null || (noContact && !informedByPost)}
                loading={lift.isPending}
                onClick={() => ground && lift.mutate(ground)}
              >
                {t('liftRestriction.button')}
              </Button>
            </Group>
          </>
        )}
        {lift.error && !noContact ? <ProblemAlert error={lift.error} /> : null}
      </Stack>
    </Card>
  );
}
