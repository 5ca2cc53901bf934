import { Center, Loader } from '@mantine/core';
import { useTranslation } from 'react-i18next';
import { useMe, type Me } from './api/auth.js';
import { LoginPage } from './auth/LoginPage.js';
import { LazyBoundary, lazyScreen } from './layout/lazy.js';
import { ProblemAlert } from './ui/ProblemAlert.js';

// The sign-in page comes with the first chunk; the rest when the session reaches it.
const MfaVerifyPage = lazyScreen(
  () => import('./auth/MfaVerifyPage.js'),
  (m) => m.MfaVerifyPage,
);
const MfaEnrolPage = lazyScreen(
  () => import('./auth/MfaEnrolPage.js'),
  (m) => m.MfaEnrolPage,
);
const PasswordChangePage = lazyScreen(
  () => import('./auth/PasswordChangePage.js'),
  (m) => m.PasswordChangePage,
);
const Shell = lazyScreen(
  () => import('./layout/Shell.js'),
  (m) => m.Shell,
);

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
  return <LazyBoundary>{stage(session)}</LazyBoundary>;
}

function stage(session: Me) {
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
