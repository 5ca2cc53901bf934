import './messages.js';
import { Alert, Button, Stack, Text, Title } from '@mantine/core';
import { useMutation } from '@tanstack/react-query';
import { useTranslation } from 'react-i18next';
import { api } from '../../api/client.js';
import { currentLanguage } from '../../i18n/index.js';
import { ProblemAlert } from '../../ui/ProblemAlert.js';

interface Verification {
  ok: boolean;
  verifiedAt: string;
  entries: number;
  checkpoints: number | null;
  anchors: number | null;
  firstBadSeq: number | null;
  problem: string | null;
  message: string | null;
}

const PROBLEMS = new Set([
  'hash_mismatch',
  'broken_link',
  'gap',
  'entry_mac_invalid',
  'entry_mac_missing',
  'checkpoint_mismatch',
  'checkpoint_mac_invalid',
  'checkpoint_backwards',
  'truncated',
  'unanchored',
  'anchor_unreadable',
]);

/** The audit chain recomputed on request (admin, privacy officer): intact up to N, or the first bad entry. */
export function AuditVerifyScreen() {
  const { t } = useTranslation();
  const verify = useMutation({
    mutationFn: () => api<Verification>('GET', '/api/v1/audit/verify'),
  });
  const result = verify.data;
  const at = result
    ? new Date(result.verifiedAt).toLocaleString(`${currentLanguage()}-BE`, {
        dateStyle: 'short',
        timeStyle: 'medium',
      })
    : '';
  return (
    <Stack maw={760}>
      <Title order={1}>{t('audit.verifyTitle')}</Title>
      <Text>{t('audit.verifyIntro')}</Text>
      <div>
        <Button onClick={() => verify.mutate()} loading={verify.isPending}>
          {t('audit.verify')}
        </Button>
      </div>
      {verify.error ? <ProblemAlert error={verify.error} /> : null}
      {result?.ok ? (
        <Alert
          color="green"
          title={t('audit.intact')}
          role="status"
          data-testid="audit-verified"
          data-ok="true"
        >
          <Text size="sm">
            {t('audit.intactText', {
              entries: result.entries,
              checkpoints: result.checkpoints ?? 0,
              anchors: result.anchors ?? 0,
            })}
          </Text>
          <Text size="xs" c="dimmed">
            {t('audit.verifiedAt', { at })}
          </Text>
        </Alert>
      ) : null}
      {result && !result.ok ? (
        <Alert
          color="red"
          title={t('audit.broken')}
          role="alert"
          data-testid="audit-verified"
          data-ok="false"
        >
          <Text size="sm">
            {t('audit.brokenText', {
              entries: result.entries,
              seq: result.firstBadSeq ?? 0,
              problem:
                result.problem && PROBLEMS.has(result.problem)
                  ? t(`audit.problems.${result.problem}`)
                  : (result.problem ?? ''),
            })}
          </Text>
          {result.message ? (
            <Text size="xs" c="dimmed">
              {t('problem.serverSaid')} {result.message}
            </Text>
          ) : null}
          <Text size="xs" c="dimmed">
            {t('audit.verifiedAt', { at })}
          </Text>
        </Alert>
      ) : null}
    </Stack>
  );
}
