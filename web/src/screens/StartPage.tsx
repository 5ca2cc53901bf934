import { Badge, Card, Group, SimpleGrid, Stack, Text, Title } from '@mantine/core';
import { useTranslation } from 'react-i18next';
import { Link } from 'react-router';
import type { Me } from '../api/auth.js';
import type { ScreenEntry } from '../layout/screens.js';
import { isOpen, useRequests } from './requests/api.js';

/** The start page: the screens of this role, with what is due where the role has it. */
export function StartPage({ me, screens }: { me: Me; screens: ScreenEntry[] }) {
  const { t } = useTranslation();
  return (
    <Stack>
      <Title order={1}>{t('start.title')}</Title>
      <Text c="dimmed">{t('start.intro', { tenant: me.tenant })}</Text>
      <SimpleGrid cols={{ base: 1, sm: 2, lg: 3 }}>
        {screens.map((screen) => (
          <Card key={screen.path} withBorder component={Link} to={screen.path}>
            <Text fw={600}>{t(screen.label)}</Text>
            {screen.path === '/requests' ? <RequestsDue /> : null}
          </Card>
        ))}
      </SimpleGrid>
    </Stack>
  );
}

/** Open and overdue rights requests (VK-27: the deadlines in view). */
function RequestsDue() {
  const { t } = useTranslation();
  const requests = useRequests();
  if (!requests.data) return null;
  const open = requests.data.filter(isOpen);
  const overdue = open.filter((request) => request.overdue);
  return (
    <Group gap="xs" mt="xs" data-testid="requests-due">
      <Badge color="indigo.8" tt="none">
        {t('start.open', { count: open.length })}
      </Badge>
      <Badge color={overdue.length > 0 ? 'red.9' : 'gray.7'} tt="none">
        {t('start.overdue', { count: overdue.length })}
      </Badge>
    </Group>
  );
}
