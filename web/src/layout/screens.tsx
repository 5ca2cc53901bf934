import type { ReactNode } from 'react';
import type { ScreenKey } from '../purposes/needs.js';
import { lazyScreen } from './lazy.js';

// Each screen is a chunk of its own, loaded when the staff member first opens it (issue #20).
const RequestsScreen = lazyScreen(
  () => import('../screens/requests/RequestsPage.js'),
  (m) => m.RequestsScreen,
);
const PeopleScreen = lazyScreen(
  () => import('../screens/people/PeoplePage.js'),
  (m) => m.PeopleScreen,
);
const SalesPage = lazyScreen(
  () => import('../screens/sales/SalesPage.js'),
  (m) => m.SalesPage,
);
const BillingPage = lazyScreen(
  () => import('../screens/billing/BillingPage.js'),
  (m) => m.BillingPage,
);
const DossierScreen = lazyScreen(
  () => import('../screens/dossier/DossierPage.js'),
  (m) => m.DossierScreen,
);
const StaffPage = lazyScreen(
  () => import('../screens/admin/StaffPage.js'),
  (m) => m.StaffPage,
);
const OrganisationsScreen = lazyScreen(
  () => import('../screens/organisations/OrganisationsPage.js'),
  (m) => m.OrganisationsScreen,
);
const PrivacyScreen = lazyScreen(
  () => import('../screens/privacy/PrivacyPage.js'),
  (m) => m.PrivacyScreen,
);
const SettingsPage = lazyScreen(
  () => import('../screens/admin/SettingsPage.js'),
  (m) => m.SettingsPage,
);
const WebsitePage = lazyScreen(
  () => import('../screens/admin/WebsitePage.js'),
  (m) => m.WebsitePage,
);
const TelephonyScreen = lazyScreen(
  () => import('../screens/telephony/TelephonyPage.js'),
  (m) => m.TelephonyScreen,
);
const MailingsScreen = lazyScreen(
  () => import('../screens/privacy/mailings/MailingsPage.js'),
  (m) => m.MailingsScreen,
);
const RatingScreen = lazyScreen(
  () => import('../screens/rating/RatingPage.js'),
  (m) => m.RatingScreen,
);
const PolicyVersionsScreen = lazyScreen(
  () => import('../screens/policy/PolicyVersionsPage.js'),
  (m) => m.PolicyVersionsScreen,
);
const AuditVerifyScreen = lazyScreen(
  () => import('../screens/audit/AuditVerifyPage.js'),
  (m) => m.AuditVerifyScreen,
);
const TokensPage = lazyScreen(
  () => import('../screens/admin/TokensPage.js'),
  (m) => m.TokensPage,
);

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
    path: '/privacy',
    label: 'nav.privacy',
    // The registers of the privacy officer: shown to the roles that handle rights requests.
    isFor: ({ keys }) => keys.has('rights_requests'),
    element: <PrivacyScreen />,
  },
  {
    path: '/people',
    label: 'nav.people',
    isFor: ({ fits }) => fits('people'),
    element: <PeopleScreen />,
  },
  {
    path: '/organisations',
    label: 'nav.organisations',
    isFor: ({ fits, role }) => fits('organisations') || role === 'admin',
    element: <OrganisationsScreen />,
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
    path: '/telephony',
    label: 'nav.telephony',
    isFor: ({ fits }) => fits('telephony'),
    element: <TelephonyScreen />,
  },
  {
    path: '/mailings',
    label: 'nav.mailings',
    isFor: ({ fits }) => fits('mailings'),
    element: <MailingsScreen />,
  },
  {
    path: '/rating',
    label: 'nav.rating',
    // Imports and the price list: the roles that work on call records, and the admin (decision 0331).
    isFor: ({ keys, role }) => keys.has('call_billing') || role === 'admin',
    element: <RatingScreen />,
  },
  {
    path: '/audit',
    label: 'nav.audit',
    // The chain's verification: the admin and the privacy officer (decision 0330).
    isFor: ({ role }) => role === 'admin' || role === 'privacy_officer',
    element: <AuditVerifyScreen />,
  },
  {
    path: '/policy-versions',
    label: 'nav.policyVersions',
    // Administration: the policy's versions and statements (admin, privacy officer; decision 0332).
    isFor: ({ role }) => role === 'admin' || role === 'privacy_officer',
    element: <PolicyVersionsScreen />,
  },
  {
    path: '/staff',
    label: 'nav.staff',
    isFor: ({ keys }) => keys.has('staff_accounts'),
    element: <StaffPage />,
  },
  {
    path: '/settings',
    label: 'nav.settings',
    // The roles the server lets change the billing settings (admin, billing); billing has them
    // under its own screen too.
    isFor: ({ role }) => role === 'admin',
    element: <SettingsPage />,
  },
  {
    path: '/website',
    label: 'nav.website',
    // The website's operation and statistics are the admin's purposes in both seed policies.
    isFor: ({ role }) => role === 'admin',
    element: <WebsitePage />,
  },
  {
    path: '/tokens',
    label: 'nav.tokens',
    isFor: () => true,
    element: <TokensPage />,
  },
];
