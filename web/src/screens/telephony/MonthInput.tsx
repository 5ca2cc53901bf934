import { TextInput } from '@mantine/core';
import { useTranslation } from 'react-i18next';

/** A calendar month as YYYY-MM (the browser's month picker where it has one). */
export function MonthInput({ value, onChange }: { value: string; onChange: (month: string) => void }) {
  const { t } = useTranslation();
  return (
    <TextInput
      type="month"
      label={t('telephony.month')}
      value={value}
      onChange={(event) => onChange(event.currentTarget.value)}
      w={180}
    />
  );
}
