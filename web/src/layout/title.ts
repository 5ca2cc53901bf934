import { useEffect } from 'react';
import { useTranslation } from 'react-i18next';

/**
 * Names the page in the browser tab, the history and a screen reader's window list: the screen
 * first (what tells two open tabs apart), then the product.
 */
export function useDocumentTitle(title: string | undefined): void {
  const { t } = useTranslation();
  const product = t('app.name');
  useEffect(() => {
    document.title = title ? `${title} · ${product}` : product;
  }, [title, product]);
}
