import { useQuery } from '@tanstack/react-query';
import { api, ApiError } from './client.js';

export type SessionStage = 'full' | 'mfa_pending' | 'mfa_enrolment' | 'password_change';

export interface Me {
  tenant: string;
  staffId: number;
  role: string;
  session: SessionStage;
  via: 'session' | 'token';
}

export interface LoginAnswer {
  tenant: string;
  staffId: number;
  role: string;
  session: SessionStage;
  csrfToken: string;
  mustChangePassword: boolean;
}

export interface Localized {
  nl: string;
  fr: string;
  en: string;
}

export interface PurposeInfo {
  key: string;
  label: Localized;
  legalBasis: string;
  subjectTypes: string[];
  categories: string[];
  /** Mailings are sent under this purpose. */
  newsletter?: boolean;
  /** Used only through authority requests: no other screen may act under it. */
  authorityRequestsOnly?: boolean;
  /** Used only for disclosures to recipients (decision 0872): no screen acts under it. */
  disclosureOnly?: boolean;
}

/**
 * What the server lets the role use, each answered by the rule of the routes behind it (decision
 * 0845); the keys of GET /api/v1/me/purposes `capabilities` (src/http/capabilities.ts).
 */
export type CapabilityKey =
  | 'quotes'
  | 'orders'
  | 'staffAccounts'
  | 'staffRemoval'
  | 'rightsRequests'
  | 'auditVerify'
  | 'policyRegister'
  | 'billingSettings'
  | 'websiteStatistics'
  | 'callImports'
  | 'tariffs'
  | 'organisationChanges'
  | 'people'
  | 'peopleCreate'
  | 'billing'
  | 'dossier'
  | 'telephony'
  | 'mailings';

export interface Capability {
  key: CapabilityKey;
  /** The role's purposes under which the routes answer; empty for a rule by role alone. */
  purposes: string[];
}

/** The subject types a quote, order or contract may be for (decisions 0941, 1030); null: any. */
export interface HolderTypes {
  quote: string[] | null;
  order: string[] | null;
  contract: string[] | null;
}

export interface MyPurposes {
  role: { key: string; label: Localized | null };
  purposes: PurposeInfo[];
  capabilities: Capability[];
  holderTypes: HolderTypes;
}

/** Who is signed in; undefined when nobody is (401). */
export function useMe() {
  return useQuery({
    queryKey: ['me'],
    queryFn: async (): Promise<Me | null> => {
      try {
        return await api<Me>('GET', '/api/v1/auth/me');
      } catch (error) {
        if (error instanceof ApiError && error.status === 401) return null;
        throw error;
      }
    },
    staleTime: 60_000,
  });
}

/** Whether the role may use a capability (false while the answer is loading). */
export function useCan(): (key: CapabilityKey) => boolean {
  const purposes = useMyPurposes();
  return (key) => purposes.data?.capabilities.some((capability) => capability.key === key) ?? false;
}

export function useMyPurposes(enabled = true) {
  return useQuery({
    queryKey: ['me', 'purposes'],
    queryFn: () => api<MyPurposes>('GET', '/api/v1/me/purposes'),
    staleTime: 5 * 60_000,
    enabled,
  });
}
