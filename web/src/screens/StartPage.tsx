import { Card, SimpleGrid, Stack, Text, Title } from '@mantine/core';
import { useTranslation } from 'react-i18next';
import { Link } from 'react-router';
import type { Me } from '../api/auth.js';
import type { ScreenEntry } from '../layout/screens.js';

/** The start page: what this role's day holds (the screens add their own summaries). */
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
          </Card>
        ))}
      </SimpleGrid>
    </Stack>
  );
}
