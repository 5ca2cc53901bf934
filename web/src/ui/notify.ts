import { notifications } from '@mantine/notifications';
import i18next from 'i18next';

/** A short confirmation at the corner of the screen; its close button is named for screen readers. */
export function notifySuccess(message: string): void {
  notifications.show({
    color: 'green',
    message,
    closeButtonProps: { 'aria-label': i18next.t('common.close') },
  });
}
