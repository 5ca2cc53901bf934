import { Button, PasswordInput, Stack, TextInput } from '@mantine/core';
import { useForm } from '@mantine/form';
import { useMutation, useQueryClient } from '@tanstack/react-query';
import { useTranslation } from 'react-i18next';
import type { LoginAnswer } from '../api/auth.js';
import { api, setCsrfToken } from '../api/client.js';
import { ProblemAlert } from '../ui/ProblemAlert.js';
import { AuthFrame } from './AuthFrame.js';
import { rememberOneTimePassword, sessionChanged } from './session.js';

const TENANT_KEY = 'kluis.tenant';

interface LoginValues {
  tenant: string;
  email: string;
  password: string;
}

export function LoginPage() {
  const { t } = useTranslation();
  const queryClient = useQueryClient();
  const fromUrl = new URLSearchParams(window.location.search).get('tenant');
  const form = useForm<LoginValues>({
    initialValues: { tenant: fromUrl ?? localStorage.getItem(TENANT_KEY) ?? '', email: '', password: '' },
    validate: {
      tenant: (value) => (/^[a-z][a-z0-9-]{1,62}$/.test(value.trim()) ? null : t('login.tenantInvalid')),
      email: (value) => (/^\S+@\S+$/.test(value.trim()) ? null : t('common.emailInvalid')),
      password: (value) => (value.length > 0 ? null : t('common.required')),
    },
  });
  const login = useMutation({
    mutationFn: (values: LoginValues) =>
      api<LoginAnswer>('POST', '/api/v1/auth/login', {
        body: { tenant: values.tenant.trim(), email: values.email.trim(), password: values.password },
      }),
    onSuccess: async (answer, values) => {
      localStorage.setItem(TENANT_KEY, values.tenant.trim());
      setCsrfToken(answer.csrfToken);
      rememberOneTimePassword(answer.mustChangePassword ? values.password : undefined);
      await sessionChanged(queryClient);
    },
  });
  return (
    <AuthFrame title={t('login.title')} intro={t('login.intro')}>
      <form onSubmit={form.onSubmit((values) => login.mutate(values))} noValidate>
        <Stack gap="sm">
          <TextInput
            label={t('login.tenant')}
            description={t('login.tenantHelp')}
            autoComplete="organization"
            required
            {...form.getInputProps('tenant')}
          />
          <TextInput
            label={t('login.email')}
            type="email"
            autoComplete="username"
            required
            {...form.getInputProps('email')}
          />
          <PasswordInput
            label={t('login.password')}
            autoComplete="current-password"
            required
            {...form.getInputProps('password')}
          />
          {login.error ? <ProblemAlert error={login.error} /> : null}
          <Button type="submit" loading={login.isPending}>
            {t('login.submit')}
          </Button>
        </Stack>
      </form>
    </AuthFrame>
  );
}
