import { Button, PasswordInput, Stack } from '@mantine/core';
import { useForm } from '@mantine/form';
import { useMutation, useQueryClient } from '@tanstack/react-query';
import { useTranslation } from 'react-i18next';
import { api } from '../api/client.js';
import { notifySuccess } from '../ui/notify.js';
import { ProblemAlert } from '../ui/ProblemAlert.js';
import { AuthFrame } from './AuthFrame.js';
import { PASSWORD_MIN_LENGTH, passwordRuleMessage } from './password-rules.js';
import { rememberOneTimePassword, sessionChanged, takeOneTimePassword } from './session.js';

interface PasswordValues {
  currentPassword: string;
  newPassword: string;
  repeat: string;
}

/** A new password of one's own: after a one-time password (first run, invite, reset) or any time. */
export function PasswordForm({ onDone }: { onDone: () => Promise<void> | void }) {
  const { t } = useTranslation();
  const remembered = takeOneTimePassword();
  const form = useForm<PasswordValues>({
    initialValues: { currentPassword: remembered ?? '', newPassword: '', repeat: '' },
    validate: {
      currentPassword: (value) => (value ? null : t('common.required')),
      newPassword: (value, values) =>
        value.length < PASSWORD_MIN_LENGTH
          ? t('password.tooShort', { count: PASSWORD_MIN_LENGTH })
          : value === values.currentPassword
            ? t('password.sameAsCurrent')
            : null,
      repeat: (value, values) => (value === values.newPassword ? null : t('password.mismatch')),
    },
  });
  const change = useMutation({
    mutationFn: (values: PasswordValues) =>
      api('POST', '/api/v1/auth/password', {
        body: { currentPassword: values.currentPassword, newPassword: values.newPassword },
      }),
    // A refused new password: the rule it broke, in the screen's language, on the field itself.
    onError: (error) => {
      const rule = passwordRuleMessage(error, t);
      if (rule) form.setFieldError('newPassword', rule);
    },
    onSuccess: async () => {
      rememberOneTimePassword(undefined);
      notifySuccess(t('password.changed'));
      await onDone();
    },
  });
  return (
    <form onSubmit={form.onSubmit((values) => change.mutate(values))} noValidate>
      <Stack gap="sm">
        {remembered === undefined ? (
          <PasswordInput
            label={t('password.current')}
            autoComplete="current-password"
            required
            {...form.getInputProps('currentPassword')}
          />
        ) : null}
        <PasswordInput
          label={t('password.new')}
          description={t('password.rules', { count: PASSWORD_MIN_LENGTH })}
          autoComplete="new-password"
          required
          {...form.getInputProps('newPassword')}
        />
        <PasswordInput
          label={t('password.repeat')}
          autoComplete="new-password"
          required
          {...form.getInputProps('repeat')}
        />
        {change.error && !passwordRuleMessage(change.error, t) ? <ProblemAlert error={change.error} /> : null}
        <Button type="submit" loading={change.isPending}>
          {t('password.submit')}
        </Button>
      </Stack>
    </form>
  );
}

export function PasswordChangePage({ firstTime }: { firstTime: boolean }) {
  const { t } = useTranslation();
  const queryClient = useQueryClient();
  return (
    <AuthFrame
      title={t('password.title')}
      intro={firstTime ? t('password.firstTimeIntro') : t('password.intro')}
    >
      <PasswordForm onDone={() => sessionChanged(queryClient)} />
    </AuthFrame>
  );
}
