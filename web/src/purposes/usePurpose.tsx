import { Alert, Badge, Group, Select, Text } from '@mantine/core';
import { useSyncExternalStore, type ReactNode } from 'react';
import { useTranslation } from 'react-i18next';
import {
  useMe,
  useMyPurposes,
  type CapabilityKey,
  type Localized,
  type MyPurposes,
  type PurposeInfo,
} from '../api/auth.js';
import { currentLanguage } from '../i18n/index.js';
import { purposesFitting, SCREEN_NEEDS, type ScreenKey } from './needs.js';

export function localized(label: Localized | null | undefined, fallback = ''): string {
  return label ? label[currentLanguage()] : fallback;
}

export interface ScreenPurpose {
  /**
   * The purpose key to read and act under: the only fitting one, or the staff member's choice
   * among several. Undefined while loading, when none fits, and until they choose (decision 1280).
   */
  purpose: string | undefined;
  /** Several purposes fit and none is chosen (or the stored one no longer fits): ask, read nothing. */
  mustChoose: boolean;
  /**
   * The purpose, else the best fitting one: only for a purpose the screen names to the staff member
   * before it is used (a form or confirmation that says it), never for a read on opening a screen.
   */
  suggested: string | undefined;
  candidates: PurposeInfo[];
  choose: (key: string) => void;
  isLoading: boolean;
}

/** Screens whose routes the server answers for with a capability (decisions 0845, 0889, 0906). */
const SERVER_DECIDED: Partial<Record<ScreenKey, CapabilityKey>> = {
  quotes: 'quotes',
  orders: 'orders',
  people: 'people',
  newPerson: 'peopleCreate',
  billing: 'billing',
  dossier: 'dossier',
  telephony: 'telephony',
  mailings: 'mailings',
};

/**
 * The role's purposes fitting the screen; where the server names the capability of the screen's
 * routes, only the purposes it lists (decisions 0845, 0889): the client never offers a purpose the
 * routes would refuse (the policy may declare a category on a purpose the routes do not work
 * under: Voxtra's admin has products, not quotes), and its needs only narrow the server's list to
 * the purposes that cover what the screen shows.
 */
export function allowedFitting(answer: MyPurposes, screen: ScreenKey): PurposeInfo[] {
  const fitting = purposesFitting(answer.purposes, SCREEN_NEEDS[screen]);
  const capabilityKey = SERVER_DECIDED[screen];
  if (capabilityKey === undefined) return fitting;
  const allowed = answer.capabilities.find((capability) => capability.key === capabilityKey)?.purposes ?? [];
  return fitting.filter((purpose) => allowed.includes(purpose.key));
}

/**
 * The staff members' choices, kept in this browser per tenant, staff member and screen: every hook
 * of a screen hears a choice made in another (a person's invoices card and the billing screen).
 */
const choiceListeners = new Set<() => void>();

function subscribeToChoices(listener: () => void): () => void {
  choiceListeners.add(listener);
  window.addEventListener('storage', listener);
  return () => {
    choiceListeners.delete(listener);
    window.removeEventListener('storage', listener);
  };
}

function storeChoice(storageKey: string, key: string): void {
  localStorage.setItem(storageKey, key);
  for (const listener of choiceListeners) listener();
}

/**
 * The purpose a screen acts under: the only purpose of the role that fits it, or the staff
 * member's choice for this screen while it still fits. Where several fit and none is chosen, none
 * (decision 1280): the screen reads nothing personal until the staff member says why they open it,
 * so no person's trail shows a look under a purpose nobody chose.
 */
export function useScreenPurpose(screen: ScreenKey): ScreenPurpose {
  const me = useMe();
  const purposes = useMyPurposes();
  const storageKey = me.data ? `kluis.purpose.${me.data.tenant}.${me.data.staffId}.${screen}` : undefined;
  const chosen = useSyncExternalStore(subscribeToChoices, () =>
    storageKey === undefined ? null : localStorage.getItem(storageKey),
  );
  const candidates = purposes.data ? allowedFitting(purposes.data, screen) : [];
  const only = candidates.length === 1 ? candidates[0]?.key : undefined;
  const purpose = only ?? candidates.find((candidate) => candidate.key === chosen)?.key;
  const isLoading = purposes.isPending || me.isPending;
  return {
    purpose,
    mustChoose: !isLoading && candidates.length > 1 && purpose === undefined,
    suggested: purpose ?? candidates[0]?.key,
    candidates,
    isLoading,
    choose: (key) => {
      if (storageKey !== undefined) storeChoice(storageKey, key);
    },
  };
}

/** A purpose's name as a badge that wraps: the statement's long names are read in full. */
export function PurposeBadge({ children }: { children: ReactNode }) {
  return (
    <Badge
      color="indigo.8"
      tt="none"
      size="lg"
      maw="100%"
      h="auto"
      py={4}
      styles={{ label: { whiteSpace: 'normal', overflow: 'visible', textOverflow: 'clip' } }}
    >
      {children}
    </Badge>
  );
}

/**
 * Says under which purpose the screen acts; where several purposes fit, a labelled list to pick
 * from, empty with a sentence saying why until one is chosen (decision 1280). Without any, says
 * that the policy gives this role no purpose for this work.
 */
export function PurposePicker({ state }: { state: ScreenPurpose }) {
  const { t } = useTranslation();
  if (state.isLoading) return null;
  if (state.candidates.length === 0)
    return (
      <Alert color="gray" title={t('purpose.noneTitle')} role="status">
        {t('purpose.noneText')}
      </Alert>
    );
  const only = state.candidates.length === 1 ? state.candidates[0] : undefined;
  if (only)
    return (
      <Group gap="xs" data-testid="purpose" data-purpose={only.key}>
        <Text size="sm" c="dimmed">
          {t('purpose.actingFor')}
        </Text>
        <PurposeBadge>{localized(only.label, only.key)}</PurposeBadge>
      </Group>
    );
  return (
    <Select
      label={t('purpose.actingFor')}
      // Until a purpose is chosen nothing personal is read: the screen says why it waits.
      description={t(state.mustChoose ? 'purpose.chooseFirst' : 'purpose.pickHelp')}
      placeholder={t('purpose.choosePlaceholder')}
      data-testid="purpose-picker"
      data-purpose={state.purpose}
      data-must-choose={state.mustChoose ? 'true' : undefined}
      allowDeselect={false}
      value={state.purpose ?? null}
      onChange={(value) => value && state.choose(value)}
      data={state.candidates.map((candidate) => ({
        value: candidate.key,
        label: localized(candidate.label, candidate.key),
      }))}
      // A purpose's name is a sentence of the statement: room for all of it, not cut off mid-word.
      w="100%"
      maw={820}
    />
  );
}
