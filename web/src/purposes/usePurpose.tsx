import { Alert, Badge, Group, Select, Text } from '@mantine/core';
import { useState, type ReactNode } from 'react';
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
  /** The purpose key to send, or undefined while loading or when none fits. */
  purpose: string | undefined;
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
 * The purpose a screen acts under: the staff member's last choice for this screen when it still
 * fits, else the best fitting purpose of their role.
 */
export function useScreenPurpose(screen: ScreenKey): ScreenPurpose {
  const me = useMe();
  const purposes = useMyPurposes();
  const storageKey = `kluis.purpose.${me.data?.tenant ?? ''}.${screen}`;
  const [chosen, setChosen] = useState<string | null>(() => localStorage.getItem(storageKey));
  const candidates = purposes.data ? allowedFitting(purposes.data, screen) : [];
  const purpose = candidates.find((candidate) => candidate.key === chosen)?.key ?? candidates[0]?.key;
  return {
    purpose,
    candidates,
    isLoading: purposes.isPending,
    choose: (key) => {
      localStorage.setItem(storageKey, key);
      setChosen(key);
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
 * from. Without any, says that the policy gives this role no purpose for this work.
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
      description={t('purpose.pickHelp')}
      data-testid="purpose-picker"
      data-purpose={state.purpose}
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
