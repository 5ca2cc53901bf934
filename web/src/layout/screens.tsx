import type { ReactNode } from 'react';
import type { CapabilityKey } from '../api/auth.js';
import type { ScreenKey } from '../purposes/needs.js';
import { salesLabel } from '../screens/sales/label.js';
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
  /** Whether some purpose of the role fits the screen's needs (the client's categories alone). */
  fits: (screen: ScreenKey) => boolean;
  /**
   * Whether the screen's purpose picker offers something: the purposes fitting its needs, among
   * those the server names for its routes where it names them (decision 0889).
   */
  offers: (screen: ScreenKey) => boolean;
  /** Whether the server names the capability for the role (the routes' own rule; decision 0845). */
  can: (capability: CapabilityKey) => boolean;
}

export interface ScreenEntry {
  path: string;
  /** i18n key of the navigation label (also the screen's heading and the browser tab's title). */
  label: string;
  /** Where the label depends on what the role is offered there: the i18n key for this role. */
  labelFor?: (context: ScreenContext) => string;
  isFor: (context: ScreenContext) => boolean;
  element: ReactNode;
}

/** The screens, in the navigation's order; each shows for the roles with work in it. */
export const SCREENS: ScreenEntry[] = [
  {
    path: '/requests',
    label: 'nav.requests',
    isFor: ({ can }) => can('rightsRequests'),
    element: <RequestsScreen />,
  },
  {
    path: '/privacy',
    label: 'nav.privacy',
    // The registers of the privacy officer: shown to the roles that handle rights requests.
    isFor: ({ can }) => can('rightsRequests'),
    element: <PrivacyScreen />,
  },
  {
    path: '/people',
    label: 'nav.people',
    // Among the purposes the server names for the people routes (decision 0889).
    isFor: ({ offers }) => offers('people'),
    element: <PeopleScreen />,
  },
  {
    path: '/organisations',
    label: 'nav.organisations',
    // Read under a purpose that covers names; changed by the routes' own roles (decision 0395).
    isFor: ({ fits, can }) => fits('organisations') || can('organisationChanges'),
    element: <OrganisationsScreen />,
  },
  {
    path: '/sales',
    label: 'nav.sales',
    labelFor: ({ can }) => salesLabel(can),
    // Its quotes and orders tabs show only where the server names them (SalesPage).
    isFor: ({ fits, can }) => fits('quotes') || can('quotes') || can('orders'),
    element: <SalesPage />,
  },
  {
    path: '/billing',
    label: 'nav.billing',
    // Among the purposes the server names for its routes (decision 0906).
    isFor: ({ offers }) => offers('billing'),
    element: <BillingPage />,
  },
  {
    path: '/dossier',
    label: 'nav.dossier',
    // Among the purposes the server names for its routes (decision 0906).
    isFor: ({ offers }) => offers('dossier'),
    element: <DossierScreen />,
  },
  {
    path: '/telephony',
    label: 'nav.telephony',
    // Among the purposes the server names for its routes (decision 0906).
    isFor: ({ offers }) => offers('telephony'),
    element: <TelephonyScreen />,
  },
  {
    path: '/mailings',
    label: 'nav.mailings',
    // Among the purposes the server names for its routes (decision 0906).
    isFor: ({ offers }) => offers('mailings'),
    element: <MailingsScreen />,
  },
  {
    path: '/rating',
    label: 'nav.rating',
    // Imports and the price list, each for the roles its routes allow (decision 0331); the tabs follow.
    isFor: ({ can }) => can('callImports') || can('tariffs'),
    element: <RatingScreen />,
  },
  {
    path: '/audit',
    label: 'nav.audit',
    // The chain's verification: the route's own roles (decision 0330).
    isFor: ({ can }) => can('auditVerify'),
    element: <AuditVerifyScreen />,
  },
  {
    path: '/policy-versions',
    label: 'nav.policyVersions',
    // Administration: the policy's versions and statements, the routes' own roles (decision 0332).
    isFor: ({ can }) => can('policyRegister'),
    element: <PolicyVersionsScreen />,
  },
  {
    path: '/staff',
    label: 'nav.staff',
    isFor: ({ can }) => can('staffAccounts'),
    element: <StaffPage />,
  },
  {
    path: '/settings',
    label: 'nav.settings',
    // The roles the server lets change the billing settings; a role with the billing screen has
    // them there.
    isFor: ({ can, offers }) => can('billingSettings') && !offers('billing'),
    element: <SettingsPage />,
  },
  {
    path: '/website',
    label: 'nav.website',
    // The rates and statistics routes' own roles, where the policy asks for a banner and keeps
    // statistics (Voxtra does neither).
    isFor: ({ can }) => can('websiteStatistics'),
    element: <WebsitePage />,
  },
  {
    path: '/tokens',
    label: 'nav.tokens',
    isFor: () => true,
    element: <TokensPage />,
  },
];
