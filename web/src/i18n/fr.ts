import type { Messages } from './en.js';

export const fr: Messages = {
  app: { name: 'Kluis' },
  common: {
    loading: 'Chargement',
    language: 'Langue',
    emailInvalid: 'Indiquez une adresse e-mail',
    required: 'Obligatoire',
    signOut: 'Se déconnecter',
    save: 'Enregistrer',
    cancel: 'Annuler',
    search: 'Rechercher',
    none: 'Aucun',
    yes: 'Oui',
    no: 'Non',
    back: 'Retour',
    next: 'Page suivante',
    previous: 'Page précédente',
    download: 'Télécharger',
    open: 'Ouvrir',
    close: 'Fermer',
    noRows: 'Rien à afficher',
    filter: 'Filtrer',
    actions: 'Actions',
    details: 'Détails',
    sortBy: 'Trier par {{column}}',
  },
  login: {
    title: 'Connexion',
    intro: 'Le back-office de votre fournisseur. Connectez-vous avec votre adresse e-mail professionnelle.',
    tenant: 'Organisation',
    tenantHelp: 'Le nom court de votre organisation dans Kluis, p. ex. voiceking',
    tenantInvalid: 'Lettres minuscules, chiffres et tirets',
    email: 'Adresse e-mail',
    password: 'Mot de passe',
    submit: 'Se connecter',
  },
  mfa: {
    verifyTitle: 'Second facteur',
    verifyIntro: 'Saisissez le code que votre application d’authentification affiche maintenant.',
    code: 'Code',
    codeOrRecovery: 'Six chiffres de l’application, ou l’un de vos codes de récupération',
    codeInvalid: 'Saisissez le code (au moins 6 caractères)',
    codeSixDigits: 'Six chiffres',
    verifySubmit: 'Continuer',
    enrolTitle: 'Application d’authentification',
    enrolMandatory:
      'Votre rôle exige un second facteur. Configurez maintenant une application d’authentification (comme FreeOTP, Aegis ou Google Authenticator).',
    scan: 'Scannez ce code QR avec votre application d’authentification.',
    qrTitle: 'Code QR pour votre application d’authentification',
    manual: 'Ou saisissez cette clé à la main :',
    firstCode: 'Le code que l’application affiche maintenant',
    confirm: 'Confirmer',
    enrolled: 'Votre application d’authentification est configurée',
    recoveryIntro:
      'Chacun de ces dix codes de récupération vous permet d’entrer une fois sans votre téléphone. Ils ne sont affichés que maintenant : imprimez-les ou gardez-les dans votre gestionnaire de mots de passe.',
    recoveryCodes: 'Codes de récupération',
    recoverySaved: 'J’ai conservé ces codes',
  },
  password: {
    title: 'Nouveau mot de passe',
    intro: 'Choisissez un nouveau mot de passe.',
    firstTimeIntro:
      'Vous vous êtes connecté avec un mot de passe à usage unique. Choisissez maintenant votre propre mot de passe ; le mot de passe à usage unique ne fonctionnera plus.',
    current: 'Mot de passe actuel',
    new: 'Nouveau mot de passe',
    repeat: 'Répétez le nouveau mot de passe',
    rules: 'Au moins {{count}} caractères, sans votre nom d’e-mail',
    tooShort: 'Au moins {{count}} caractères',
    sameAsCurrent: 'Doit différer du mot de passe actuel',
    mismatch: 'Les deux mots de passe diffèrent',
    submit: 'Enregistrer le nouveau mot de passe',
    changed: 'Votre mot de passe a été modifié',
  },
  problem: {
    serverSaid: 'Kluis a répondu :',
    retryAfter: 'Réessayez dans {{seconds}} secondes.',
    requestId: 'Référence pour l’administrateur :',
    network: {
      what: 'Kluis est injoignable',
      fix: 'Vérifiez la connexion et réessayez.',
    },
    validation_failed: {
      what: 'Certaines données ne conviennent pas',
      fix: 'Corrigez les champs indiqués ci-dessous et réessayez. Rien n’a été modifié.',
    },
    sensitive_data_refused: {
      what: 'Ce texte semble contenir des données sensibles',
      fix: 'Kluis vérifie le texte libre à la recherche de données qui ne peuvent y figurer (un numéro de registre national, une carte bancaire, des données de santé ou d’autres données particulières). Retirez-les ou formulez autrement ; rien n’a été enregistré.',
    },
    not_found: {
      what: 'Indisponible pour cette finalité',
      fix: 'Cela n’existe pas, ou la finalité pour laquelle vous travaillez ne le couvre pas. Une autre finalité peut-être (choisissez-la ci-dessus, si proposé).',
    },
    tenant_not_found: { what: 'Organisation inconnue', fix: 'Vérifiez le nom de l’organisation.' },
    conflict: {
      what: 'Impossible dans l’état actuel',
      fix: 'Quelqu’un l’a peut-être modifié entre-temps : rechargez et regardez son état.',
    },
    idempotency_key_reused: {
      what: 'Une répétition différente d’une action antérieure',
      fix: 'Rechargez la page et recommencez.',
    },
    unauthenticated: {
      what: 'Non connecté',
      fix: 'L’adresse e-mail ou le mot de passe est erroné, ou votre session a pris fin. Reconnectez-vous.',
    },
    forbidden: {
      what: 'Non autorisé',
      fix: 'Votre rôle ne peut pas faire ceci, ou la session demande d’abord une étape (un second facteur, un nouveau mot de passe). Si vous pensez le devoir, demandez à un administrateur.',
    },
    step_up_required: {
      what: 'Un code récent est nécessaire',
      fix: 'Ceci demande un code de votre application d’authentification des cinq dernières minutes : saisissez-en un nouveau.',
    },
    rate_limited: {
      what: 'Trop de tentatives',
      fix: 'Kluis ralentit les échecs répétés. Patientez un instant.',
    },
    account_locked: {
      what: 'Compte verrouillé pour l’instant',
      fix: 'Trop de codes erronés. Attendez l’heure indiquée, ou demandez à un administrateur de déverrouiller le compte.',
    },
    purpose_not_allowed: {
      what: 'Votre rôle ne peut pas agir pour cette finalité',
      fix: 'La politique de confidentialité ne cite pas votre rôle pour cette finalité. Choisissez une autre finalité, ou demandez au responsable de la vie privée si la politique devrait le permettre.',
    },
    role_not_allowed: {
      what: 'Votre rôle ne peut pas faire ceci',
      fix: 'La politique de confidentialité ne confie pas ce travail à votre rôle. Demandez à un administrateur ou au responsable de la vie privée.',
    },
    category_not_allowed: {
      what: 'Cette finalité ne couvre pas ces données',
      fix: 'La finalité pour laquelle vous travaillez n’inclut pas ce type de données dans la politique. Choisissez une finalité qui les couvre, si vous en avez une.',
    },
    subject_restricted: {
      what: 'Cette personne a demandé la limitation du traitement',
      fix: 'Ses données ne peuvent qu’être conservées, pas utilisées, jusqu’à la fin de la limitation (RGPD art. 18). Le responsable de la vie privée vous en dira plus.',
    },
    subject_objected: {
      what: 'Cette personne s’est opposée à ce traitement',
      fix: 'Son opposition arrête cette finalité pour elle (RGPD art. 21). N’agissez pour une autre finalité que si elle a sa propre base juridique.',
    },
    consent_missing: {
      what: 'Pas de consentement pour ceci',
      fix: 'Cette finalité repose sur le consentement, que cette personne n’a pas donné (ou a retiré).',
    },
    subject_erased: {
      what: 'Cette personne a été effacée',
      fix: 'Ses données ont disparu ; seul ce qu’une obligation légale conserve reste, sous la finalité de cette obligation.',
    },
    database_unavailable: {
      what: 'La base de données est injoignable pour l’instant',
      fix: 'Kluis se reconnecte. Réessayez dans une minute.',
    },
    internal: {
      what: 'Un problème est survenu dans Kluis',
      fix: 'Rien n’a été modifié. Réessayez ; si l’échec persiste, donnez à l’administrateur la référence ci-dessous.',
    },
  },
  purpose: {
    actingFor: 'Vous agissez pour la finalité',
    pickHelp:
      'Plusieurs finalités de votre rôle conviennent à cet écran : choisissez celle pour laquelle vous travaillez maintenant (elle est enregistrée).',
    noneTitle: 'Aucune finalité pour ce travail',
    noneText:
      'La politique de confidentialité ne donne à votre rôle aucune finalité couvrant les données de cet écran.',
  },
  nav: {
    menu: 'Menu',
    label: 'Écrans',
    start: 'Accueil',
    account: 'Mon compte',
    requests: 'Demandes vie privée',
    people: 'Personnes',
    organisations: 'Organisations',
    catalogue: 'Catalogue',
    sales: 'Offres, commandes, contrats',
    billing: 'Facturation',
    dossier: 'Dossier technique',
    staff: 'Collaborateurs',
    tokens: 'Jetons API',
  },
  start: {
    title: 'Accueil',
    intro: 'Connecté chez {{tenant}}. Votre travail aujourd’hui :',
  },
  account: {
    title: 'Mon compte',
    changePassword: 'Changer mon mot de passe',
    mfaText:
      'Configurez une nouvelle application d’authentification (un nouveau téléphone). Vos anciens codes de récupération sont remplacés.',
    newAuthenticator: 'Configurer un nouvel authentificateur',
  },
};
