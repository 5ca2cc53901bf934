import { SegmentedControl } from '@mantine/core';
import { notifications } from '@mantine/notifications';
import { useTranslation } from 'react-i18next';
import { chooseLanguage, currentLanguage, LANGUAGES } from '../i18n/index.js';

/** nl / fr / en, the staff member's choice (kept in this browser). */
export function LanguagePicker() {
  const { t, i18n } = useTranslation();
  return (
    <SegmentedControl
      size="xs"
      aria-label={t('common.language')}
      value={currentLanguage()}
      key={i18n.language}
      onChange={(value) => {
        // A confirmation said in the language left behind would stay beside the new one.
        notifications.clean();
        chooseLanguage(value);
      }}
      data={LANGUAGES.map((language) => ({ value: language, label: language.toUpperCase() }))}
    />
  );
}
