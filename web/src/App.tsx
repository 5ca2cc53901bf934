import { Center, Loader } from '@mantine/core';
import { useTranslation } from 'react-i18next';
import { useMe } from './api/auth.js';
import { LoginPage } from './auth/LoginPage.js';
import { MfaEnrolPage } from './auth/MfaEnrolPage.js';
import { MfaVerifyPage } from './auth/MfaVerifyPage.js';
import { PasswordChangePage } from './auth/PasswordChangePage.js';
import { Shell } from './layout/Shell.js';
import { ProblemAlert } from './ui/ProblemAlert.js';

/** The session's stage decides the page: sign in, second factor, enrolment, new password, or work. */
export function App() {
  const { t } = useTranslation();
  const me = useMe();
  if (me.isPending)
    return (
      <Center h="100vh">
        <Loader aria-label={t('common.loading')} />
      </Center>
    );
  if (me.isError)
    return (
      <Center h="100vh" p="md">
        <ProblemAlert error={me.error} />
      </Center>
    );
  const session = me.data;
  if (!session) return <LoginPage />;
  switch (session.session) {
    case 'mfa_pending':
      return <MfaVerifyPage />;
    case 'mfa_enrolment':
      return <MfaEnrolPage mandatory />;
    case 'password_change':
      return <PasswordChangePage firstTime />;
    case 'full':
      return <Shell me={session} />;
  }
}
