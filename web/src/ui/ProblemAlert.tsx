import { Alert, List, Stack, Text } from '@mantine/core';
import { useTranslation } from 'react-i18next';
import { ApiError } from '../api/client.js';

/** Keys under `problem.` that are sentences of the box itself, not codes the server answers. */
const NOT_CODES = new Set(['serverSaid', 'retryAfter', 'requestId', 'network', 'unexplained']);

/**
 * The code's own what/fix text, or `unexplained` for a code this build has no words for (a newer
 * server): then the server's public sentence and the reference say the rest.
 */
function textKeyOf(code: string, hasText: (key: string) => boolean): string {
  return !NOT_CODES.has(code) && hasText(`problem.${code}.what`) ? code : 'unexplained';
}

interface Issue {
  path?: string;
  message?: string;
}

function issuesOf(error: ApiError): Issue[] {
  const issues = error.details?.['issues'];
  return Array.isArray(issues) ? (issues as Issue[]) : [];
}

/** Where the server's paths name a field of the request: `body/number`, `querystring/month`. */
const PATH_CONTEXT = /^(?:body|querystring|params|headers)(?:[/.]|$)/;

/**
 * A field the server names (an issue's path, or the `field: ` a sentence starts with) as the form
 * labels it; unknown fields keep their name, never the request's part (`body/`) before it.
 */
function fieldLabel(path: string, fields: Readonly<Record<string, string>>): string {
  const field = path.replace(PATH_CONTEXT, '');
  const first = field.split(/[/.]/)[0] ?? '';
  return Object.hasOwn(fields, first) ? (fields[first] ?? field) : field;
}

/** The server's sentence with a leading `field: ` said as the form's label. */
function withFieldLabel(detail: string, fields: Readonly<Record<string, string>>): string {
  const match = /^([A-Za-z][\w./]*): /.exec(detail);
  if (!match?.[1]) return detail;
  const field = match[1].replace(PATH_CONTEXT, '').split(/[/.]/)[0] ?? '';
  if (!Object.hasOwn(fields, field)) return detail;
  return `${fieldLabel(match[1], fields)}: ${detail.slice(match[0].length)}`;
}

/**
 * An error of the API, said in the staff member's language, with the server's own sentence below.
 * `fields`: the form's labels by the request's field names, so a refusal names the field as the
 * form shows it.
 */
export function ProblemAlert({
  error,
  title,
  fields = {},
}: {
  error: unknown;
  title?: string;
  fields?: Readonly<Record<string, string>>;
}) {
  const { t, i18n } = useTranslation();
  if (!(error instanceof ApiError))
    return (
      <Alert color="red" title={title ?? t('problem.network.what')} role="alert">
        {t('problem.network.fix')}
      </Alert>
    );
  const code = textKeyOf(error.code, (key) => i18n.exists(key));
  const showsReference = error.status >= 500 || code === 'unexplained';
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
            {t('problem.serverSaid')} {withFieldLabel(error.detail, fields)}
          </Text>
        ) : null}
        {issues.length > 0 ? (
          <List size="sm">
            {issues.map((issue, index) => (
              <List.Item key={index}>
                {issue.path && fieldLabel(issue.path, fields) ? `${fieldLabel(issue.path, fields)}: ` : ''}
                {issue.message}
              </List.Item>
            ))}
          </List>
        ) : null}
        <ProblemFooter error={error} showsReference={showsReference} />
      </Stack>
    </Alert>
  );
}

/** When to try again, and the reference that finds the request in the server's log. */
export function ProblemFooter({ error, showsReference }: { error: ApiError; showsReference: boolean }) {
  const { t } = useTranslation();
  return (
    <>
      {error.retryAfter ? (
        <Text size="sm">{t('problem.retryAfter', { seconds: error.retryAfter })}</Text>
      ) : null}
      {error.requestId && showsReference ? (
        <Text size="xs" c="dimmed">
          {t('problem.requestId')} {error.requestId}
        </Text>
      ) : null}
    </>
  );
}
