import { Alert, Button, Code, Group, List, Loader, Stack, Text, TextInput } from '@mantine/core';
import { useForm } from '@mantine/form';
import { useMutation, useQueryClient } from '@tanstack/react-query';
import { QRCodeSVG } from 'qrcode.react';
import { useEffect, useRef, useState } from 'react';
import { useTranslation } from 'react-i18next';
import { api, setCsrfToken } from '../api/client.js';
import { ProblemAlert } from '../ui/ProblemAlert.js';
import { AuthFrame } from './AuthFrame.js';
import { sessionChanged, signOut } from './session.js';

interface Enrolment {
  otpauthUri: string;
  secret: string;
}

interface Confirmation {
  recoveryCodes: string[];
  session: string;
  csrfToken?: string;
}

/**
 * TOTP enrolment: the QR code of the otpauth:// URI (and the secret to type by hand), a first code
 * to confirm, then the ten single-use recovery codes, shown once.
 */
export function MfaEnrolment({ onDone }: { onDone: () => Promise<void> | void }) {
  const { t } = useTranslation();
  const started = useRef(false);
  const [codes, setCodes] = useState<string[] | undefined>();
  const enrol = useMutation({ mutationFn: () => api<Enrolment>('POST', '/api/v1/auth/mfa/enrol') });
  const { mutate: startEnrolment } = enrol;
  useEffect(() => {
    // One enrolment per visit: each start makes a new secret.
    if (started.current) return;
    started.current = true;
    startEnrolment();
  }, [startEnrolment]);
  const form = useForm({
    initialValues: { code: '' },
    validate: { code: (value) => (/^\d{6}$/.test(value.trim()) ? null : t('mfa.codeSixDigits')) },
  });
  const confirm = useMutation({
    mutationFn: (code: string) =>
      api<Confirmation>('POST', '/api/v1/auth/mfa/confirm', { body: { code: code.trim() } }),
    onSuccess: (answer) => {
      if (answer.csrfToken) setCsrfToken(answer.csrfToken);
      setCodes(answer.recoveryCodes);
    },
  });

  if (codes)
    return (
      <Stack gap="sm">
        <Alert color="green" title={t('mfa.enrolled')}>
          {t('mfa.recoveryIntro')}
        </Alert>
        <List type="ordered" spacing={2} aria-label={t('mfa.recoveryCodes')} data-testid="recovery-codes">
          {codes.map((code) => (
            <List.Item key={code}>
              <Code>{code}</Code>
            </List.Item>
          ))}
        </List>
        <Button onClick={() => void onDone()}>{t('mfa.recoverySaved')}</Button>
      </Stack>
    );
  if (enrol.isPending || enrol.isIdle) return <Loader aria-label={t('common.loading')} />;
  if (enrol.error) return <ProblemAlert error={enrol.error} />;
  const { otpauthUri, secret } = enrol.data;
  return (
    <form onSubmit={form.onSubmit((values) => confirm.mutate(values.code))} noValidate>
      <Stack gap="sm">
        <Text size="sm">{t('mfa.scan')}</Text>
        <Group justify="center">
          <QRCodeSVG
            value={otpauthUri}
            size={196}
            marginSize={2}
            title={t('mfa.qrTitle')}
            role="img"
            aria-label={t('mfa.qrTitle')}
          />
        </Group>
        <Text size="sm">
          {t('mfa.manual')}{' '}
          <Code data-testid="totp-secret" style={{ wordBreak: 'break-all' }}>
            {secret}
          </Code>
        </Text>
        <TextInput
          label={t('mfa.firstCode')}
          inputMode="numeric"
          autoComplete="one-time-code"
          required
          {...form.getInputProps('code')}
        />
        {confirm.error ? <ProblemAlert error={confirm.error} /> : null}
        <Button type="submit" loading={confirm.isPending}>
          {t('mfa.confirm')}
        </Button>
      </Stack>
    </form>
  );
}

export function MfaEnrolPage({ mandatory }: { mandatory: boolean }) {
  const { t } = useTranslation();
  const queryClient = useQueryClient();
  return (
    <AuthFrame title={t('mfa.enrolTitle')} intro={mandatory ? t('mfa.enrolMandatory') : undefined}>
      <MfaEnrolment onDone={() => sessionChanged(queryClient)} />
      <Button variant="subtle" size="xs" onClick={() => void signOut(queryClient)}>
        {t('common.signOut')}
      </Button>
    </AuthFrame>
  );
}
