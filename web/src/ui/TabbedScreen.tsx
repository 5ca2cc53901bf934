import { Stack, Tabs, Title } from '@mantine/core';
import { useState, type ReactNode } from 'react';

export interface ScreenTab {
  value: string;
  label: string;
  panel: ReactNode;
}

/**
 * A screen with its title over tabs, the first tab open; a tab's content is made only while it is
 * shown (it loads its data when opened).
 */
export function TabbedScreen({ title, tabs }: { title: string; tabs: ScreenTab[] }) {
  const [tab, setTab] = useState<string | null>(tabs[0]?.value ?? null);
  return (
    <Stack>
      <Title order={1}>{title}</Title>
      <Tabs value={tab} onChange={setTab} keepMounted={false}>
        <Tabs.List>
          {tabs.map((item) => (
            <Tabs.Tab key={item.value} value={item.value}>
              {item.label}
            </Tabs.Tab>
          ))}
        </Tabs.List>
        {tabs.map((item) => (
          <Tabs.Panel key={item.value} value={item.value} pt="md">
            {item.panel}
          </Tabs.Panel>
        ))}
      </Tabs>
    </Stack>
  );
}
