import { Anchor, Badge, Group, Stack, Table, Text, Title } from '@mantine/core';
import { useQuery } from '@tanstack/react-query';
import { useTranslation } from 'react-i18next';
import { api } from '../../api/client.js';
import { addScreenMessages } from '../../i18n/screen-messages.js';
import { currentLanguage, LANGUAGES } from '../../i18n/index.js';
import { CaptionedTable } from '../../ui/CaptionedTable.js';
import { ProblemAlert } from '../../ui/ProblemAlert.js';
import { brusselsToday, formatDay, formatMoment } from '../../ui/dates.js';

const en = {
  title: 'Policy versions',
  intro:
    'Every version of the privacy policy installed for your organisation, newest first, with the day its statement took effect. Each statement is generated from its own version.',
  caption: 'Policy versions',
  version: 'Version',
  statementVersion: 'Statement',
  effective: 'In effect from',
  installed: 'Installed',
  file: 'File',
  inForce: 'in force',
  appliedBeforeEffect: 'applied; its statement takes effect on {{date}}',
  statements: 'Statement as published',
  openStatement: '{{language}}: statement of version {{version}}',
};

addScreenMessages('policyVersions', {
  en,
  nl: {
    title: 'Beleidsversies',
    intro:
      'Elke versie van het privacybeleid die voor uw organisatie werd geïnstalleerd, nieuwste eerst, met de dag waarop haar verklaring inging. Elke verklaring wordt uit haar eigen versie gemaakt.',
    caption: 'Beleidsversies',
    version: 'Versie',
    statementVersion: 'Verklaring',
    effective: 'Geldig vanaf',
    installed: 'Geïnstalleerd',
    file: 'Bestand',
    inForce: 'van kracht',
    appliedBeforeEffect: 'toegepast; haar verklaring gaat in op {{date}}',
    statements: 'Verklaring zoals gepubliceerd',
    openStatement: '{{language}}: verklaring van versie {{version}}',
  },
  fr: {
    title: 'Versions de la politique',
    intro:
      'Chaque version de la politique de confidentialité installée pour votre organisation, la plus récente d’abord, avec le jour où sa déclaration est entrée en vigueur. Chaque déclaration est générée à partir de sa propre version.',
    caption: 'Versions de la politique',
    version: 'Version',
    statementVersion: 'Déclaration',
    effective: 'En vigueur depuis',
    installed: 'Installée',
    file: 'Fichier',
    inForce: 'en vigueur',
    appliedBeforeEffect: 'appliquée ; sa déclaration prend effet le {{date}}',
    statements: 'Déclaration telle que publiée',
    openStatement: '{{language}} : déclaration de la version {{version}}',
  },
});

interface PolicyVersion {
  versionNo: number;
  statementVersion: string;
  effectiveDate: string;
  loadedAt: string;
  sourceFile: string;
  inForce: boolean;
}

const LANGUAGE_NAMES: Record<string, Record<string, string>> = {
  en: { nl: 'Dutch', fr: 'French', en: 'English' },
  nl: { nl: 'Nederlands', fr: 'Frans', en: 'Engels' },
  fr: { nl: 'néerlandais', fr: 'français', en: 'anglais' },
};

/** The tenant's policy versions with their dates, and the statement each made (admin, privacy officer). */
export function PolicyVersionsScreen() {
  const { t } = useTranslation();
  const versions = useQuery({
    queryKey: ['policy-versions'],
    queryFn: async () =>
      (await api<{ items: PolicyVersion[] }>('GET', '/api/v1/policy/versions', { query: { limit: 200 } }))
        .items,
  });
  const language = currentLanguage();
  const today = brusselsToday();
  return (
    <Stack>
      <Title order={1}>{t('policyVersions.title')}</Title>
      <Text c="dimmed">{t('policyVersions.intro')}</Text>
      {versions.error ? <ProblemAlert error={versions.error} /> : null}
      {versions.data ? (
        <CaptionedTable
          caption={t('policyVersions.caption')}
          headers={[
            t('policyVersions.version'),
            t('policyVersions.statementVersion'),
            t('policyVersions.effective'),
            t('policyVersions.installed'),
            t('policyVersions.file'),
            t('policyVersions.statements'),
          ]}
        >
          {versions.data.map((version) => (
            <Table.Tr key={version.versionNo} data-testid={`policy-version-${version.versionNo}`}>
              <Table.Td>
                {version.versionNo}
                {/* The software works under the last version installed (decision 0332); before its
                    statement's day it is not "in force" to the people who read the statement. */}
                {version.inForce ? (
                  version.effectiveDate <= today ? (
                    <Badge ml="xs" color="indigo.8" tt="none" data-testid="policy-in-force">
                      {t('policyVersions.inForce')}
                    </Badge>
                  ) : (
                    <Badge
                      ml="xs"
                      color="yellow.3"
                      c="dark.9"
                      tt="none"
                      h="auto"
                      styles={{ label: { whiteSpace: 'normal' } }}
                      data-testid="policy-applied-before-effect"
                    >
                      {t('policyVersions.appliedBeforeEffect', { date: formatDay(version.effectiveDate) })}
                    </Badge>
                  )
                ) : null}
              </Table.Td>
              <Table.Td>{version.statementVersion}</Table.Td>
              <Table.Td>{formatDay(version.effectiveDate)}</Table.Td>
              <Table.Td>{formatMoment(version.loadedAt)}</Table.Td>
              <Table.Td>{version.sourceFile}</Table.Td>
              <Table.Td>
                <Group gap="xs">
                  {LANGUAGES.map((lang) => (
                    <Anchor
                      key={lang}
                      href={`/api/v1/policy/versions/${version.versionNo}/statement?lang=${lang}`}
                      target="_blank"
                      rel="noopener"
                      aria-label={t('policyVersions.openStatement', {
                        version: version.statementVersion,
                        language: LANGUAGE_NAMES[language]?.[lang] ?? lang,
                      })}
                    >
                      {LANGUAGE_NAMES[language]?.[lang] ?? lang}
                    </Anchor>
                  ))}
                </Group>
              </Table.Td>
            </Table.Tr>
          ))}
        </CaptionedTable>
      ) : null}
    </Stack>
  );
}
