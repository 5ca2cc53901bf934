import { html, renderPortalPage, type PortalFrame } from '../portal/index.js';
import type { MailLanguage } from './consent.tables.js';

/**
 * The public pages of the unsubscribe link and the double opt-in confirmation: plain
 * server-rendered HTML in the privacy portal's frame, one form with one button, no script, no
 * cookie (VK-18).
 */
export interface PageText {
  title: string;
  lead: string;
  button?: string;
}

export const UNSUBSCRIBE_TEXT: Record<MailLanguage, { ask: PageText; done: PageText; unknown: PageText }> = {
  nl: {
    ask: {
      title: 'Uitschrijven',
      lead: 'Wilt u deze berichten niet meer ontvangen? Bevestig met de knop hieronder.',
      button: 'Uitschrijven',
    },
    done: {
      title: 'U bent uitgeschreven',
      lead: 'U ontvangt deze berichten niet meer. Dat is meteen van kracht.',
    },
    unknown: { title: 'Onbekende link', lead: 'Deze link is niet (meer) geldig.' },
  },
  fr: {
    ask: {
      title: 'Se désinscrire',
      lead: 'Vous ne souhaitez plus recevoir ces messages ? Confirmez avec le bouton ci-dessous.',
      button: 'Me désinscrire',
    },
    done: {
      title: 'Vous êtes désinscrit',
      lead: 'Vous ne recevrez plus ces messages. C’est effectif immédiatement.',
    },
    unknown: { title: 'Lien inconnu', lead: 'Ce lien n’est pas (ou plus) valable.' },
  },
  en: {
    ask: {
      title: 'Unsubscribe',
      lead: 'Do you no longer want to receive these messages? Confirm with the button below.',
      button: 'Unsubscribe',
    },
    done: {
      title: 'You are unsubscribed',
      lead: 'You will not receive these messages any more. This is effective at once.',
    },
    unknown: { title: 'Unknown link', lead: 'This link is not (or no longer) valid.' },
  },
};

export const CONFIRM_TEXT: Record<
  MailLanguage,
  { ask: PageText; done: PageText; used: PageText; unknown: PageText }
> = {
  nl: {
    ask: {
      title: 'Inschrijving bevestigen',
      lead: 'Bevestig met de knop hieronder dat u onze nieuwsbrief op dit adres wilt ontvangen.',
      button: 'Ja, ik schrijf me in',
    },
    done: {
      title: 'Inschrijving bevestigd',
      lead: 'Dank u. U kunt zich in elke nieuwsbrief weer uitschrijven.',
    },
    used: {
      title: 'Link al gebruikt',
      lead: 'Met deze link bevestigde u al eerder, maar u schreef zich sindsdien uit: u ontvangt de nieuwsbrief niet. Wilt u hem weer ontvangen, schrijf u dan opnieuw in.',
    },
    unknown: {
      title: 'Onbekende of verlopen link',
      lead: 'Deze link is niet (meer) geldig. Schrijf u opnieuw in.',
    },
  },
  fr: {
    ask: {
      title: 'Confirmer l’inscription',
      lead: 'Confirmez avec le bouton ci-dessous que vous souhaitez recevoir notre lettre d’information à cette adresse.',
      button: 'Oui, je m’inscris',
    },
    done: {
      title: 'Inscription confirmée',
      lead: 'Merci. Vous pouvez vous désinscrire dans chaque lettre d’information.',
    },
    used: {
      title: 'Lien déjà utilisé',
      lead: 'Vous avez déjà confirmé avec ce lien, mais vous vous êtes désinscrit depuis : vous ne recevez pas la lettre d’information. Pour la recevoir à nouveau, inscrivez-vous à nouveau.',
    },
    unknown: {
      title: 'Lien inconnu ou expiré',
      lead: 'Ce lien n’est pas (ou plus) valable. Inscrivez-vous à nouveau.',
    },
  },
  en: {
    ask: {
      title: 'Confirm your subscription',
      lead: 'Confirm with the button below that you want to receive our newsletter at this address.',
      button: 'Yes, subscribe me',
    },
    done: { title: 'Subscription confirmed', lead: 'Thank you. You can unsubscribe in every newsletter.' },
    used: {
      title: 'Link already used',
      lead: 'You confirmed with this link before, but you have unsubscribed since: you do not receive the newsletter. To receive it again, please sign up again.',
    },
    unknown: {
      title: 'Unknown or expired link',
      lead: 'This link is not (or no longer) valid. Please sign up again.',
    },
  },
};

/**
 * A page with a title, a lead and, when `action` is given, one POST form with one button, drawn
 * in the privacy portal's frame (the tenant's name and colours, header, footer, language switcher).
 * No script; the form works without JavaScript.
 */
export function renderPage(frame: PortalFrame, path: string, text: PageText, action?: string): string {
  const form =
    action && text.button
      ? html`<form method="post" action="${action}">
          <input type="hidden" name="confirm" value="1" /><button type="submit">${text.button}</button>
        </form>`
      : '';
  return renderPortalPage(frame, {
    title: text.title,
    path,
    body: html`<h1>${text.title}</h1>
      <p>${text.lead}</p>
      ${form}`,
  });
}
