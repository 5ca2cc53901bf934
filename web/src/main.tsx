import '@mantine/core/styles.css';
import '@mantine/notifications/styles.css';
import './i18n/index.js';
import { createTheme, MantineProvider, type CSSVariablesResolver } from '@mantine/core';
import { Notifications } from '@mantine/notifications';
import { MutationCache, QueryClient, QueryClientProvider } from '@tanstack/react-query';
import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { BrowserRouter } from 'react-router';
import { App } from './App.js';
import { ApiError } from './api/client.js';

const theme = createTheme({
  primaryColor: 'indigo',
  // Shade 8 and automatic text contrast: white on indigo.6 reads at 4.3:1, under WCAG AA's 4.5.
  primaryShade: 8,
  autoContrast: true,
  fontFamily: 'system-ui, -apple-system, "Segoe UI", Roboto, "Noto Sans", sans-serif',
  defaultRadius: 'sm',
  // A person who asked the system for less motion gets no sliding notifications or fading dialogs.
  respectReducedMotion: true,
});

// Contrast for every text: Mantine's "dimmed" grey (gray.6) reads at 3.3:1 on white; gray.7 at 7:1.
// Text on the light variants (alerts, badges) is the colour's shade 9 darkened by a third: shade 9
// alone reads at 3.8:1 on its light background for green.
const LIGHT_COLORS = ['green', 'red', 'orange', 'yellow', 'indigo', 'blue', 'gray', 'teal', 'grape'];
const contrast: CSSVariablesResolver = () => ({
  variables: {},
  light: {
    '--mantine-color-dimmed': 'var(--mantine-color-gray-7)',
    // A field's error and its red border: red.6 reads at 3.3:1 on white, red.9 at 5.6:1.
    '--mantine-color-error': 'var(--mantine-color-red-9)',
    ...Object.fromEntries(
      LIGHT_COLORS.map((color) => [
        `--mantine-color-${color}-light-color`,
        `color-mix(in srgb, var(--mantine-color-${color}-9) 67%, black)`,
      ]),
    ),
  },
  dark: {},
});

const queryClient: QueryClient = new QueryClient({
  defaultOptions: {
    queries: {
      // A refusal or a missing session does not get better by asking again.
      retry: (count, error) => !(error instanceof ApiError && error.status < 500) && count < 2,
      refetchOnWindowFocus: false,
    },
  },
  mutationCache: new MutationCache({
    onError: (error) => {
      // A session that ended (expired, signed out elsewhere) sends the staff member to the sign-in.
      if (error instanceof ApiError && error.status === 401)
        void queryClient.invalidateQueries({ queryKey: ['me'] });
    },
  }),
});

const root = document.getElementById('root');
if (!root) throw new Error('no #root element');
createRoot(root).render(
  <StrictMode>
    <MantineProvider theme={theme} defaultColorScheme="light" cssVariablesResolver={contrast}>
      {/* At the top, over the header's empty middle, two at most: in the bottom corner they piled up
          over the rows' action buttons. */}
      <Notifications position="top-center" limit={2} containerWidth={420} />
      <QueryClientProvider client={queryClient}>
        <BrowserRouter>
          <App />
        </BrowserRouter>
      </QueryClientProvider>
    </MantineProvider>
  </StrictMode>,
);
