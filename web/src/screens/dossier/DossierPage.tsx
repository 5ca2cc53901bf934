import {
  Alert,
  Button,
  Card,
  Code,
  Group,
  Modal,
  Stack,
  Table,
  Text,
  TextInput,
  Textarea,
  Title,
} from '@mantine/core';
import { useForm } from '@mantine/form';
import { useMutation, useQuery } from '@tanstack/react-query';
import { useState } from 'react';
import { useTranslation } from 'react-i18next';
import { Route, Routes, useNavigate, useParams } from 'react-router';
import { api } from '../../api/client.js';
import { PurposePicker, useScreenPurpose } from '../../purposes/usePurpose.js';
import { ProblemAlert } from '../../ui/ProblemAlert.js';

interface Credential {
  credentialId: number;
  system: string;
  url: string | null;
  username: string | null;
  password: string | null;
  hasTotp: boolean;
}

interface Asset {
  assetId: number;
  kind: string;
  brand: string | null;
  model: string | null;
  hostname: string | null;
  ipAddress: string | null;
}

interface Dossier {
  subjectId: number;
  assets: Asset[];
  credentials: Credential[];
}

export function DossierScreen() {
  return (
    <Routes>
      <Route index element={<DossierLookup />} />
      <Route path=":subjectId" element={<DossierView />} />
    </Routes>
  );
}

function DossierLookup() {
  const { t } = useTranslation();
  const navigate = useNavigate();
  const [customer, setCustomer] = useState('');
  return (
    <Stack maw={560}>
      <Title order={1}>{t('nav.dossier')}</Title>
      <form
        onSubmit={(event) => {
          event.preventDefault();
          if (/^\d+$/.test(customer.trim())) void navigate(customer.trim());
        }}
      >
        <Group align="flex-end">
          <TextInput
            label={t('dossier.customer')}
            description={t('dossier.customerHelp')}
            value={customer}
            onChange={(event) => setCustomer(event.currentTarget.value)}
          />
          <Button type="submit">{t('common.open')}</Button>
        </Group>
      </form>
    </Stack>
  );
}

/** A customer's dossier: devices and credentials, secrets masked until revealed with a reason and a fresh code. */
function DossierView() {
  const { t } = useTranslation();
  const { subjectId } = useParams();
  const purpose = useScreenPurpose('dossier');
  const [revealing, setRevealing] = useState<Credential | undefined>();
  const dossier = useQuery({
    queryKey: ['dossier', subjectId, purpose.purpose],
    enabled: purpose.purpose !== undefined,
    queryFn: () =>
      api<Dossier>('GET', `/api/v1/customers/${subjectId}/dossier`, { purpose: purpose.purpose }),
  });
  return (
    <Stack>
      <Title order={1}>{t('dossier.title', { id: subjectId })}</Title>
      <PurposePicker state={purpose} />
      {dossier.error ? <ProblemAlert error={dossier.error} /> : null}
      {dossier.data ? (
        <>
          <Card withBorder>
            <Title order={2} size="h4" mb="xs">
              {t('dossier.credentials')}
            </Title>
            <Table>
              <Table.Caption>{t('dossier.credentialsCaption')}</Table.Caption>
              <Table.Thead>
                <Table.Tr>
                  <Table.Th>{t('dossier.system')}</Table.Th>
                  <Table.Th>{t('dossier.username')}</Table.Th>
                  <Table.Th>{t('dossier.password')}</Table.Th>
                  <Table.Th>{t('common.actions')}</Table.Th>
                </Table.Tr>
              </Table.Thead>
              <Table.Tbody>
                {dossier.data.credentials.map((credential) => (
                  <Table.Tr key={credential.credentialId}>
                    <Table.Td>{credential.system}</Table.Td>
                    <Table.Td>{credential.username ?? '—'}</Table.Td>
                    <Table.Td>{credential.password ?? '—'}</Table.Td>
                    <Table.Td>
                      <Button
                        size="xs"
                        aria-label={`${t('dossier.reveal')}: ${credential.system}`}
                        onClick={() => setRevealing(credential)}
                      >
                        {t('dossier.reveal')}
                      </Button>
                    </Table.Td>
                  </Table.Tr>
                ))}
              </Table.Tbody>
            </Table>
          </Card>
          <Card withBorder>
            <Title order={2} size="h4" mb="xs">
              {t('dossier.assets')}
            </Title>
            <Table>
              <Table.Caption>{t('dossier.assetsCaption')}</Table.Caption>
              <Table.Thead>
                <Table.Tr>
                  <Table.Th>{t('dossier.kind')}</Table.Th>
                  <Table.Th>{t('dossier.model')}</Table.Th>
                  <Table.Th>{t('dossier.hostname')}</Table.Th>
                </Table.Tr>
              </Table.Thead>
              <Table.Tbody>
                {dossier.data.assets.map((asset) => (
                  <Table.Tr key={asset.assetId}>
                    <Table.Td>{asset.kind}</Table.Td>
                    <Table.Td>{[asset.brand, asset.model].filter(Boolean).join(' ') || '—'}</Table.Td>
                    <Table.Td>{asset.hostname ?? asset.ipAddress ?? '—'}</Table.Td>
                  </Table.Tr>
                ))}
              </Table.Tbody>
            </Table>
          </Card>
        </>
      ) : null}
      <Modal
        opened={revealing !== undefined}
        onClose={() => setRevealing(undefined)}
        title={t('dossier.revealTitle', { system: revealing?.system ?? '' })}
        closeButtonProps={{ 'aria-label': t('common.close') }}
      >
        {revealing ? <RevealForm credential={revealing} purpose={purpose.purpose} /> : null}
      </Modal>
    </Stack>
  );
}

interface RevealValues {
  reason: string;
  code: string;
}

/** The reveal rule (VX-4): a typed reason and a code of the authenticator app from the last minutes. */
function RevealForm({ credential, purpose }: { credential: Credential; purpose: string | undefined }) {
  const { t } = useTranslation();
  const [secret, setSecret] = useState<string | undefined>();
  const form = useForm<RevealValues>({
    initialValues: { reason: '', code: '' },
    validate: {
      reason: (value) =>
        value.trim().length >= 10 && value.trim().length <= 200 ? null : t('dossier.reasonLength'),
      code: (value) => (/^\d{6}$/.test(value.trim()) ? null : t('mfa.codeSixDigits')),
    },
  });
  const reveal = useMutation({
    mutationFn: async (values: RevealValues) => {
      await api('POST', '/api/v1/auth/mfa/step-up', { body: { code: values.code.trim() } });
      return api<{ value: string }>('POST', `/api/v1/dossier/credentials/${credential.credentialId}/reveal`, {
        purpose,
        body: { field: 'password', reason: values.reason.trim() },
      });
    },
    onSuccess: (answer) => setSecret(answer.value),
  });
  if (secret !== undefined)
    return (
      <Stack>
        <Alert color="green" title={t('dossier.revealed')}>
          {t('dossier.revealedNote')}
        </Alert>
        <Code block fz="lg" data-testid="revealed-secret">
          {secret}
        </Code>
      </Stack>
    );
  return (
    <form onSubmit={form.onSubmit((values) => reveal.mutate(values))} noValidate>
      <Stack gap="sm">
        <Text size="sm">{t('dossier.revealIntro')}</Text>
        <Textarea
          label={t('dossier.reason')}
          description={t('dossier.reasonHelp')}
          required
          autosize
          minRows={2}
          {...form.getInputProps('reason')}
        />
        <TextInput
          label={t('dossier.freshCode')}
          inputMode="numeric"
          autoComplete="one-time-code"
          required
          {...form.getInputProps('code')}
        />
        {reveal.error ? <ProblemAlert error={reveal.error} /> : null}
        <Button type="submit" loading={reveal.isPending}>
          {t('dossier.revealSubmit')}
        </Button>
      </Stack>
    </form>
  );
}
