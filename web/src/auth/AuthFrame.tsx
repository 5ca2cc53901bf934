import { Box, Center, Group, Paper, Stack, Text, Title } from '@mantine/core';
import type { ReactNode } from 'react';
import { useTranslation } from 'react-i18next';
import { useDocumentTitle } from '../layout/title.js';
import { LanguagePicker } from '../ui/LanguagePicker.js';

/** The frame of the sign-in steps: the product, the step's title, the language choice. */
export function AuthFrame({
  title,
  intro,
  children,
}: {
  title: string;
  intro?: ReactNode;
  children: ReactNode;
}) {
  const { t } = useTranslation();
  useDocumentTitle(title);
  return (
    <Box component="main" bg="gray.0" mih="100vh">
      <Center mih="100vh" p="md">
        <Paper withBorder shadow="sm" p="xl" radius="md" w={460} maw="100%">
          <Stack gap="md">
            <Group justify="space-between" align="center">
              <Text fw={700} size="lg" c="indigo.8">
                {t('app.name')}
              </Text>
              <LanguagePicker />
            </Group>
            <Title order={1} size="h2">
              {title}
            </Title>
            {intro ? <Text c="dimmed">{intro}</Text> : null}
            {children}
          </Stack>
        </Paper>
      </Center>
    </Box>
  );
}
