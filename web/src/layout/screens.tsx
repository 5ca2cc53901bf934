import type { ReactNode } from 'react';
import type { ScreenKey } from '../purposes/needs.js';
import { RequestsScreen } from '../screens/requests/RequestsPage.js';
import { PeopleScreen } from '../screens/people/PeoplePage.js';
import { SalesPage } from '../screens/sales/SalesPage.js';
import { BillingPage } from '../screens/billing/BillingPage.js';
import { DossierScreen } from '../screens/dossier/DossierPage.js';
import { StaffPage } from '../screens/admin/StaffPage.js';
import { TokensPage } from '../screens/admin/TokensPage.js';

export interface ScreenContext {
  role: string;
  /** The purpose keys of the role (for the routes that act under one fixed purpose). */
  keys: ReadonlySet<string>;
  /** Whether some purpose of the role fits the screen's needs. */
  fits: (screen: ScreenKey) => boolean;
}

export interface ScreenEntry {
  path: string;
  /** i18n key of the navigation label. */
  label: string;
  isFor: (context: ScreenContext) => boolean;
  element: ReactNode;
}

/** The screens, in the navigation's order; each shows for the roles with work in it. */
export const SCREENS: ScreenEntry[] = [
  {
    path: '/requests',
    label: 'nav.requests',
    isFor: ({ keys }) => keys.has('rights_requests'),
    element: <RequestsScreen />,
  },
  {
    path: '/people',
    label: 'nav.people',
    isFor: ({ fits }) => fits('people'),
    element: <PeopleScreen />,
  },
  {
    path: '/sales',
    label: 'nav.sales',
    isFor: ({ fits }) => fits('quotes'),
    element: <SalesPage />,
  },
  {
    path: '/billing',
    label: 'nav.billing',
    isFor: ({ fits }) => fits('billing'),
    element: <BillingPage />,
  },
  {
    path: '/dossier',
    label: 'nav.dossier',
    isFor: ({ fits }) => fits('dossier'),
    element: <DossierScreen />,
  },
  {
    path: '/staff',
    label: 'nav.staff',
    isFor: ({ keys }) => keys.has('staff_accounts'),
    element: <StaffPage />,
  },
  {
    path: '/tokens',
    label: 'nav.tokens',
    isFor: () => true,
    element: <TokensPage />,
  },
];
