import { Alert, List, Stack, Text } from '@mantine/core';
import { useTranslation } from 'react-i18next';
import { ApiError } from '../../api/client.js';
import { currentLanguage } from '../../i18n/index.js';
import { ProblemAlert, ProblemFooter } from '../../ui/ProblemAlert.js';

/** Keys under `problem.` that are sentences of the problem box, not codes the server answers. */
const NOT_CODES = new Set(['serverSaid', 'retryAfter', 'requestId', 'network', 'unexplained']);

/** A path the server named, with the form's field for it (undefined: the form has no such field). */
export interface NamedField {
  path: string;
  field: string | undefined;
}

export interface RegistrationProblemProps {
  error: unknown;
  /** The paths the answer names, each with the form's field for it. */
  named: NamedField[];
  /** The form's fields on the screen now: a refusal of one of these is said under it. */
  shown: ReadonlySet<string>;
  /** Each field's label as the form shows it. */
  labels: Readonly<Record<string, string>>;
  /** The words said at a field for this answer (the same under the field and in this box). */
  wordsFor: (field: string) => string;
}

/**
 * A refused registration said above the form in the screen's language (decision 1182): a refusal
 * of a field on the screen is said under that field and the box names it; one of a field the form
 * does not show is said here with its label; one without a field in the code's own words, or a
 * general sentence for a code this build has no words for. The server's English sentence is shown
 * only on an English screen, never in a Dutch or French one.
 */
export function RegistrationProblem({ error, named, shown, labels, wordsFor }: RegistrationProblemProps) {
  const { t, i18n } = useTranslation();
  if (!(error instanceof ApiError)) return <ProblemAlert error={error} />;
  const hasWords = !NOT_CODES.has(error.code) && i18n.exists(`problem.${error.code}.what`);
  const atFields = [...new Set(named.flatMap(({ field }) => (field && shown.has(field) ? [field] : [])))];
  const elsewhere = named.filter(({ field }) => !field || !shown.has(field));
  const list = new Intl.ListFormat(currentLanguage(), { type: 'conjunction' });
  const english = currentLanguage() === 'en';
  const showsReference = error.status >= 500 || !hasWords;
  return (
    <Alert
      color={error.status >= 500 ? 'red' : 'orange'}
      title={hasWords ? t(`problem.${error.code}.what`) : t('newPerson.problem.title')}
      role="alert"
      data-problem-code={error.code}
      data-testid="registration-problem"
    >
      <Stack gap={4}>
        {atFields.length > 0 ? (
          <Text size="sm">
            {t('newPerson.problem.atFields', {
              count: atFields.length,
              fields: list.format(atFields.map((field) => labels[field] ?? field)),
            })}
          </Text>
        ) : null}
        {elsewhere.length > 0 ? (
          <>
            <Text size="sm">{t('newPerson.problem.notShown', { count: elsewhere.length })}</Text>
            <List size="sm">
              {elsewhere.map(({ path, field }) => (
                <List.Item key={path}>
                  {field
                    ? `${labels[field] ?? field}: ${wordsFor(field)}`
                    : t('newPerson.problem.unknownField', { name: path.replace(/^body[/.]?/, '') })}
                </List.Item>
              ))}
            </List>
          </>
        ) : null}
        {named.length > 0 ? (
          <Text size="sm">{t('newPerson.problem.nothingRegistered')}</Text>
        ) : (
          <Text size="sm">{hasWords ? t(`problem.${error.code}.fix`) : t('newPerson.problem.generic')}</Text>
        )}
        {english && named.length === 0 && error.detail ? (
          <Text size="sm" c="dimmed">
            {t('problem.serverSaid')} {error.detail}
          </Text>
        ) : null}
        <ProblemFooter error={error} showsReference={showsReference} />
      </Stack>
    </Alert>
  );
}
