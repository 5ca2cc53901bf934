import { notifications } from '@mantine/notifications';
import i18next from 'i18next';

/**
 * A short confirmation at the top of the screen; its close button is named for screen readers. It
 * replaces the one before: two in a row stacked over the screen's title.
 */
export function notifySuccess(message: string): void {
  notifications.clean();
  notifications.show({
    color: 'green',
    message,
    closeButtonProps: { 'aria-label': i18next.t('common.close') },
  });
}
