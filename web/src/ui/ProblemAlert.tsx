import { Alert, List, Stack, Text } from '@mantine/core';
import { useTranslation } from 'react-i18next';
import { ApiError } from '../api/client.js';

/** Codes the gate and the doors answer, each explained in words: what happened, what would allow it. */
const EXPLAINED = new Set([
  'validation_failed',
  'sensitive_data_refused',
  'not_found',
  'tenant_not_found',
  'conflict',
  'idempotency_key_reused',
  'unauthenticated',
  'forbidden',
  'step_up_required',
  'rate_limited',
  'account_locked',
  'purpose_not_allowed',
  'role_not_allowed',
  'category_not_allowed',
  'subject_restricted',
  'subject_objected',
  'consent_missing',
  'subject_erased',
  'erasure_held',
  'payload_too_large',
  'database_unavailable',
  'database_busy',
  'server_stopping',
  'audit_unavailable',
  'internal',
]);

interface Issue {
  path?: string;
  message?: string;
}

function issuesOf(error: ApiError): Issue[] {
  const issues = error.details?.['issues'];
  return Array.isArray(issues) ? (issues as Issue[]) : [];
}

/** An error of the API, said in the staff member's language, with the server's own sentence below. */
export function ProblemAlert({ error, title }: { error: unknown; title?: string }) {
  const { t } = useTranslation();
  if (!(error instanceof ApiError))
    return (
      <Alert color="red" title={title ?? t('problem.network.what')} role="alert">
        {t('problem.network.fix')}
      </Alert>
    );
  const code = EXPLAINED.has(error.code) ? error.code : 'internal';
  const issues = issuesOf(error);
  return (
    <Alert
      color={error.status >= 500 ? 'red' : 'orange'}
      title={title ?? t(`problem.${code}.what`)}
      role="alert"
      data-problem-code={error.code}
    >
      <Stack gap={4}>
        <Text size="sm">{t(`problem.${code}.fix`)}</Text>
        {error.detail ? (
          <Text size="sm" c="dimmed">
            {t('problem.serverSaid')} {error.detail}
          </Text>
        ) : null}
        {issues.length > 0 ? (
          <List size="sm">
            {issues.map((issue, index) => (
              <List.Item key={index}>
                {issue.path ? `${issue.path}: ` : ''}
                {issue.message}
              </List.Item>
            ))}
          </List>
        ) : null}
        {error.retryAfter ? (
          <Text size="sm">{t('problem.retryAfter', { seconds: error.retryAfter })}</Text>
        ) : null}
        {error.requestId && error.status >= 500 ? (
          <Text size="xs" c="dimmed">
            {t('problem.requestId')} {error.requestId}
          </Text>
        ) : null}
      </Stack>
    </Alert>
  );
}
