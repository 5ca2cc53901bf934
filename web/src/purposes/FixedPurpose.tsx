import { Group, Text } from '@mantine/core';
import { useTranslation } from 'react-i18next';
import { useMyPurposes } from '../api/auth.js';
import { localized, PurposeBadge } from './usePurpose.js';

/**
 * For the routes that act under one purpose whatever is declared (rights requests, staff
 * accounts): names that purpose in the staff member's language.
 */
export function FixedPurpose({ purposeKey }: { purposeKey: string }) {
  const { t } = useTranslation();
  const purposes = useMyPurposes();
  const purpose = purposes.data?.purposes.find((candidate) => candidate.key === purposeKey);
  if (!purpose) return null;
  return (
    <Group gap="xs" data-testid="purpose" data-purpose={purpose.key}>
      <Text size="sm" c="dimmed">
        {t('purpose.actingFor')}
      </Text>
      <PurposeBadge>{localized(purpose.label, purpose.key)}</PurposeBadge>
    </Group>
  );
}
