import { Anchor, Button, Stack, TextInput } from '@mantine/core';
import { useForm } from '@mantine/form';
import { useMutation, useQueryClient } from '@tanstack/react-query';
import { useTranslation } from 'react-i18next';
import { api, setCsrfToken } from '../api/client.js';
import { ProblemAlert } from '../ui/ProblemAlert.js';
import { AuthFrame } from './AuthFrame.js';
import { sessionChanged, signOut } from './session.js';

/** Second step of a sign-in: a code of the authenticator app, or one unused recovery code. */
export function MfaVerifyPage() {
  const { t } = useTranslation();
  const queryClient = useQueryClient();
  const form = useForm({
    initialValues: { code: '' },
    validate: { code: (value) => (value.trim().length >= 6 ? null : t('mfa.codeInvalid')) },
  });
  const verify = useMutation({
    mutationFn: (code: string) =>
      api<{ csrfToken: string }>('POST', '/api/v1/auth/mfa/verify', { body: { code: code.trim() } }),
    onSuccess: async (answer) => {
      setCsrfToken(answer.csrfToken);
      await sessionChanged(queryClient);
    },
  });
  return (
    <AuthFrame title={t('mfa.verifyTitle')} intro={t('mfa.verifyIntro')}>
      <form onSubmit={form.onSubmit((values) => verify.mutate(values.code))} noValidate>
        <Stack gap="sm">
          <TextInput
            label={t('mfa.code')}
            description={t('mfa.codeOrRecovery')}
            autoComplete="one-time-code"
            autoFocus
            required
            {...form.getInputProps('code')}
          />
          {verify.error ? <ProblemAlert error={verify.error} /> : null}
          <Button type="submit" loading={verify.isPending}>
            {t('mfa.verifySubmit')}
          </Button>
          <Anchor component="button" type="button" size="sm" onClick={() => void signOut(queryClient)}>
            {t('common.signOut')}
          </Anchor>
        </Stack>
      </form>
    </AuthFrame>
  );
}
