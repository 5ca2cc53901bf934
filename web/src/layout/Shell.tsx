import {
  Alert,
  AppShell,
  Burger,
  Button,
  Group,
  Loader,
  NavLink,
  ScrollArea,
  Stack,
  Text,
  Title,
} from '@mantine/core';
import { useDisclosure } from '@mantine/hooks';
import { useQueryClient } from '@tanstack/react-query';
import { useTranslation } from 'react-i18next';
import { Link, Navigate, Route, Routes, useLocation } from 'react-router';
import { useCan, useMyPurposes, type Me } from '../api/auth.js';
import { signOut } from '../auth/session.js';
import { purposesFitting, SCREEN_NEEDS, type ScreenKey } from '../purposes/needs.js';
import { allowedFitting, localized } from '../purposes/usePurpose.js';
import { StartPage } from '../screens/StartPage.js';
import { LanguagePicker } from '../ui/LanguagePicker.js';
import { LazyBoundary, lazyScreen } from './lazy.js';
import { SCREENS, type ScreenContext, type ScreenEntry } from './screens.js';
import { useDocumentTitle } from './title.js';

const AccountPage = lazyScreen(
  () => import('../screens/AccountPage.js'),
  (m) => m.AccountPage,
);

/** The signed-in back office: header, the screens this role has work in, and the routes. */
export function Shell({ me }: { me: Me }) {
  const { t } = useTranslation();
  const [opened, { toggle, close }] = useDisclosure();
  const queryClient = useQueryClient();
  const purposes = useMyPurposes();
  const location = useLocation();
  const keys = new Set(purposes.data?.purposes.map((purpose) => purpose.key) ?? []);
  const fits = (screen: ScreenKey): boolean =>
    purposesFitting(purposes.data?.purposes ?? [], SCREEN_NEEDS[screen]).length > 0;
  const offers = (screen: ScreenKey): boolean =>
    purposes.data !== undefined && allowedFitting(purposes.data, screen).length > 0;
  const can = useCan();
  const context: ScreenContext = { role: me.role, keys, fits, offers, can };
  const visible = SCREENS.filter((entry: ScreenEntry) => entry.isFor(context)).map((entry) =>
    entry.labelFor ? { ...entry, label: entry.labelFor(context) } : entry,
  );
  useDocumentTitle(purposes.isPending ? undefined : t(titleKeyOf(location.pathname, visible)));
  return (
    <AppShell
      header={{ height: 56 }}
      navbar={{ width: 240, breakpoint: 'sm', collapsed: { mobile: !opened } }}
      padding="md"
    >
      <AppShell.Header>
        <Group h="100%" px="md" justify="space-between" wrap="nowrap">
          <Group gap="sm" wrap="nowrap">
            <Burger opened={opened} onClick={toggle} hiddenFrom="sm" size="sm" aria-label={t('nav.menu')} />
            <Text fw={700} c="indigo.8" component={Link} to="/">
              {t('app.name')}
            </Text>
            <Text size="sm" c="dimmed" visibleFrom="xs">
              {me.tenant} · {localized(purposes.data?.role.label, me.role)}
            </Text>
          </Group>
          <Group gap="sm" wrap="nowrap">
            <LanguagePicker />
            <Button variant="default" size="xs" onClick={() => void signOut(queryClient)}>
              {t('common.signOut')}
            </Button>
          </Group>
        </Group>
      </AppShell.Header>
      <AppShell.Navbar p="xs" aria-label={t('nav.label')}>
        <ScrollArea>
          <NavLink
            component={Link}
            variant="filled"
            to="/"
            label={t('nav.start')}
            active={location.pathname === '/'}
            onClick={close}
          />
          {visible.map((entry) => (
            <NavLink
              key={entry.path}
              component={Link}
              variant="filled"
              to={entry.path}
              label={t(entry.label)}
              active={location.pathname.startsWith(entry.path)}
              onClick={close}
            />
          ))}
          <NavLink
            component={Link}
            variant="filled"
            to="/account"
            label={t('nav.account')}
            active={location.pathname.startsWith('/account')}
            onClick={close}
          />
        </ScrollArea>
      </AppShell.Navbar>
      <AppShell.Main>
        {purposes.isPending ? (
          <Loader aria-label={t('common.loading')} />
        ) : (
          <LazyBoundary>
            <ShellRoutes me={me} visible={visible} />
          </LazyBoundary>
        )}
      </AppShell.Main>
    </AppShell>
  );
}

/** The i18n key of the open screen's name: the start page, a screen of the navigation, the account. */
function titleKeyOf(pathname: string, visible: ScreenEntry[]): string {
  if (pathname.startsWith('/account')) return 'nav.account';
  const screen =
    visible.find((entry) => pathname.startsWith(entry.path)) ??
    SCREENS.find((entry) => pathname.startsWith(entry.path));
  return screen?.label ?? 'nav.start';
}

/** Routes only once the role's purposes are known, so a deep link is not sent to the start page. */
function ShellRoutes({ me, visible }: { me: Me; visible: ScreenEntry[] }) {
  return (
    <Routes>
      <Route path="/" element={<StartPage me={me} screens={visible} />} />
      {SCREENS.map((entry) => (
        <Route
          key={entry.path}
          path={`${entry.path}/*`}
          element={
            visible.some((shown) => shown.path === entry.path) ? (
              entry.element
            ) : (
              <NotAvailable label={entry.label} />
            )
          }
        />
      ))}
      <Route path="/account" element={<AccountPage />} />
      <Route path="*" element={<Navigate to="/" replace />} />
    </Routes>
  );
}

/**
 * A typed or kept link to a screen the role may not use: said in words, no request made (a screen
 * full of refusals tells nothing; decision 0845).
 */
function NotAvailable({ label }: { label: string }) {
  const { t } = useTranslation();
  return (
    <Stack>
      <Title order={1}>{t(label)}</Title>
      <Alert color="gray" title={t('nav.notAvailableTitle')} role="status" data-testid="not-available">
        <Text size="sm">{t('nav.notAvailableText')}</Text>
        <Text size="sm" mt="xs" component={Link} to="/" c="indigo.8" td="underline">
          {t('nav.backToStart')}
        </Text>
      </Alert>
    </Stack>
  );
}
