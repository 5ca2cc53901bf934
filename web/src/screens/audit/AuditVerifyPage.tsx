import './messages.js';
import { Alert, Button, Code, List, Stack, Text, Title } from '@mantine/core';
import { useMutation } from '@tanstack/react-query';
import { Trans, useTranslation } from 'react-i18next';
import { api } from '../../api/client.js';
import { currentLanguage } from '../../i18n/index.js';
import { ProblemAlert } from '../../ui/ProblemAlert.js';
import { formatMoment } from '../../ui/dates.js';

interface Verification {
  ok: boolean;
  verifiedAt: string;
  entries: number;
  checkpoints: number | null;
  anchors: number | null;
  firstBadSeq: number | null;
  problem: string | null;
  message: string | null;
  pendingCopies: number[] | null;
  pendingCopyCount: number | null;
  displacedPending: DisplacedEntry[];
  /** Restores that set the chain back (decision 1270); absent from an older server. */
  setBacks?: SetBack[];
}

interface SetBack {
  at: string;
  seq: number;
  earlierSeq: number;
}

interface DisplacedEntry {
  pendingId: number;
  seq: number;
  rows: number;
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

/** A count as the screen's language writes it (14.204, 14 204, 14,204). */
function formatCount(value: number): string {
  return new Intl.NumberFormat(`${currentLanguage()}-BE`).format(value);
}

/** The audit chain recomputed on request (admin, privacy officer): intact up to N, or the first bad entry. */
export function AuditVerifyScreen() {
  const { t } = useTranslation();
  const verify = useMutation({
    mutationFn: () => api<Verification>('GET', '/api/v1/audit/verify'),
  });
  const result = verify.data;
  const at = result ? formatMoment(result.verifiedAt, { seconds: true }) : '';
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
              entries: formatCount(result.entries),
              checkpoints: formatCount(result.checkpoints ?? 0),
              anchors: formatCount(result.anchors ?? 0),
            })}
          </Text>
          <Text size="xs" c="dimmed">
            {t('audit.verifiedAt', { at })}
          </Text>
        </Alert>
      ) : null}
      {result?.setBacks && result.setBacks.length > 0 ? <SetBacks setBacks={result.setBacks} /> : null}
      {result?.ok && result.pendingCopies && result.pendingCopies.length > 0 ? (
        <PendingCopies
          ids={result.pendingCopies}
          count={result.pendingCopyCount ?? result.pendingCopies.length}
        />
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
            {/* The command is shown as code, not between backticks (attack S16, noticed). */}
            <Trans
              i18nKey="audit.brokenText"
              values={{
                entries: formatCount(result.entries),
                // An entry's number names it, as in `kluis audit verify`: no separator.
                seq: result.firstBadSeq ?? 0,
                problem:
                  result.problem && PROBLEMS.has(result.problem)
                    ? t(`audit.problems.${result.problem}`)
                    : (result.problem ?? ''),
              }}
              components={{ code: <Code /> }}
            />
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
      {result && !result.ok && result.displacedPending.length > 0 ? (
        <DisplacedEntries entries={result.displacedPending} />
      ) : null}
    </Stack>
  );
}

/** Restores that set the chain back: the earlier timeline's checkpoints are not a break (1270). */
function SetBacks({ setBacks }: { setBacks: SetBack[] }) {
  const { t } = useTranslation();
  return (
    <Alert color="blue" title={t('audit.setBacksTitle')} data-testid="audit-setbacks">
      <List size="sm">
        {setBacks.map((setBack) => {
          const values = { at: formatMoment(setBack.at, { seconds: true }), seq: setBack.seq };
          return (
            <List.Item key={`${setBack.at}-${setBack.seq}`}>
              {setBack.earlierSeq > setBack.seq
                ? t('audit.setBackItem', { ...values, from: setBack.seq + 1, to: setBack.earlierSeq })
                : t('audit.setBackItemMatch', values)}
            </List.Item>
          );
        })}
      </List>
    </Alert>
  );
}

/** Copies of chained entries the app's login made in audit_pending (decisions 0686, 0727). */
function PendingCopies({ ids, count }: { ids: number[]; count: number }) {
  const { t } = useTranslation();
  // The API lists the lowest numbers only (decision 0791).
  const listed =
    count > ids.length
      ? `${ids.join(', ')} ${t('audit.copiesMore', { more: count - ids.length })}`
      : ids.join(', ');
  return (
    <Alert color="yellow" title={t('audit.copiesTitle')} data-testid="audit-pending-copies">
      <Text size="sm">{t('audit.copiesText', { count, ids: listed })}</Text>
    </Alert>
  );
}

/** Genuine waiting entries a forged chained entry carries the nonce of (decisions 0760, 0768). */
function DisplacedEntries({ entries }: { entries: DisplacedEntry[] }) {
  const { t } = useTranslation();
  return (
    <Alert color="red" title={t('audit.displacedTitle')} data-testid="audit-displaced">
      <Stack gap="xs">
        <Text size="sm">{t('audit.displacedIntro')}</Text>
        <List size="sm">
          {entries.map((entry) => (
            <List.Item key={entry.pendingId} data-testid={`audit-displaced-${entry.pendingId}`}>
              {t('audit.displacedItem', { pendingId: entry.pendingId, seq: entry.seq })}
              {entry.rows > 1 ? ` ${t('audit.displacedRows', { rows: entry.rows })}` : ''}
            </List.Item>
          ))}
        </List>
      </Stack>
    </Alert>
  );
}
