// English messages; nl.ts and fr.ts must have exactly the same keys (checked by the compiler).
export const en = {
  app: { name: 'Kluis' },
  common: {
    loading: 'Loading',
    language: 'Language',
    emailInvalid: 'Enter an e-mail address',
    required: 'Required',
    signOut: 'Sign out',
    save: 'Save',
    cancel: 'Cancel',
    search: 'Search',
    none: 'None',
    yes: 'Yes',
    no: 'No',
    back: 'Back',
    next: 'Next page',
    previous: 'Previous page',
    download: 'Download',
    open: 'Open',
    close: 'Close',
    noRows: 'Nothing to show',
    filter: 'Filter',
    actions: 'Actions',
    details: 'Details',
    sortBy: 'Sort by {{column}}',
  },
  login: {
    title: 'Sign in',
    intro: 'The back office of your provider. Sign in with your work e-mail address.',
    tenant: 'Organisation',
    tenantHelp: 'The short name of your organisation in Kluis, e.g. voiceking',
    tenantInvalid: 'Lower-case letters, digits and dashes',
    email: 'E-mail address',
    password: 'Password',
    submit: 'Sign in',
  },
  mfa: {
    verifyTitle: 'Second factor',
    verifyIntro: 'Enter the code your authenticator app shows now.',
    code: 'Code',
    codeOrRecovery: 'Six digits from the app, or one of your recovery codes',
    codeInvalid: 'Enter the code (at least 6 characters)',
    codeSixDigits: 'Six digits',
    verifySubmit: 'Continue',
    enrolTitle: 'Authenticator app',
    enrolMandatory:
      'Your role needs a second factor. Set up an authenticator app (such as FreeOTP, Aegis or Google Authenticator) now.',
    scan: 'Scan this QR code with your authenticator app.',
    qrTitle: 'QR code for your authenticator app',
    manual: 'Or type this key by hand:',
    firstCode: 'The code the app shows now',
    confirm: 'Confirm',
    enrolled: 'Your authenticator app is set up',
    recoveryIntro:
      'These ten recovery codes each let you in once when you do not have your phone. They are shown only now: print them or keep them in your password manager.',
    recoveryCodes: 'Recovery codes',
    recoverySaved: 'I have saved these codes',
  },
  password: {
    title: 'New password',
    intro: 'Choose a new password.',
    firstTimeIntro:
      'You signed in with a one-time password. Choose your own password now; the one-time password then stops working.',
    current: 'Current password',
    new: 'New password',
    repeat: 'Repeat the new password',
    rules: 'At least {{count}} characters, not containing your e-mail name',
    tooShort: 'At least {{count}} characters',
    sameAsCurrent: 'Must differ from the current password',
    mismatch: 'The two passwords differ',
    submit: 'Save the new password',
    changed: 'Your password was changed',
  },
  problem: {
    serverSaid: 'Kluis said:',
    retryAfter: 'Try again in {{seconds}} seconds.',
    requestId: 'Reference for the administrator:',
    network: {
      what: 'Kluis could not be reached',
      fix: 'Check the connection and try again.',
    },
    validation_failed: {
      what: 'Some input is not right',
      fix: 'Correct the fields named below and try again. Nothing was changed.',
    },
    sensitive_data_refused: {
      what: 'This text seems to hold sensitive data',
      fix: 'Kluis checks free text for data that must not be stored there (a national number, a bank card, health or other special data). Leave it out or write it differently; nothing was saved.',
    },
    not_found: {
      what: 'Not available under this purpose',
      fix: 'It does not exist, or the purpose you act under does not cover it. Another purpose may (pick it above, if offered).',
    },
    tenant_not_found: { what: 'Unknown organisation', fix: 'Check the organisation name.' },
    conflict: {
      what: 'This cannot be done in the current state',
      fix: 'Someone may have changed it meanwhile: reload and look at its state.',
    },
    idempotency_key_reused: {
      what: 'A different repeat of an earlier action',
      fix: 'Reload the page and do it again.',
    },
    unauthenticated: {
      what: 'Not signed in',
      fix: 'The e-mail address or password is wrong, or your session ended. Sign in again.',
    },
    forbidden: {
      what: 'Not allowed',
      fix: 'Your role may not do this, or the session needs a step first (a second factor, a new password). If you think you should, ask an administrator.',
    },
    step_up_required: {
      what: 'A fresh code is needed',
      fix: 'This needs a code of your authenticator app from the last five minutes: enter a new one.',
    },
    rate_limited: {
      what: 'Too many attempts',
      fix: 'Kluis slows down repeated failures. Wait a moment.',
    },
    account_locked: {
      what: 'Account locked for now',
      fix: 'Too many wrong codes. Wait until the time given, or ask an administrator to unlock the account.',
    },
    purpose_not_allowed: {
      what: 'Your role may not act under this purpose',
      fix: 'The privacy policy does not list your role for this purpose. Pick another purpose, or ask the privacy officer whether the policy should allow it.',
    },
    role_not_allowed: {
      what: 'Your role may not do this',
      fix: 'The privacy policy does not give your role this work. Ask an administrator or the privacy officer.',
    },
    category_not_allowed: {
      what: 'This purpose does not cover this data',
      fix: 'The purpose you act under does not include this kind of data in the policy. Pick a purpose that does, if you have one.',
    },
    subject_restricted: {
      what: 'This person asked to restrict the processing',
      fix: 'Their data may only be kept, not used, until the restriction ends (GDPR Art. 18). The privacy officer can tell you more.',
    },
    subject_objected: {
      what: 'This person objected to this processing',
      fix: 'Their objection stops this purpose for them (GDPR Art. 21). Act under another purpose only if it has its own legal basis.',
    },
    consent_missing: {
      what: 'No consent for this',
      fix: 'This purpose rests on consent, and this person has not given it (or withdrew it).',
    },
    subject_erased: {
      what: 'This person was erased',
      fix: 'Their data is gone; only what a legal obligation keeps remains, under that obligation’s purpose.',
    },
    database_unavailable: {
      what: 'The database is not reachable right now',
      fix: 'Kluis is reconnecting. Try again in a minute.',
    },
    internal: {
      what: 'Something went wrong in Kluis',
      fix: 'Nothing was changed. Try again; if it keeps failing, give the administrator the reference below.',
    },
  },
  purpose: {
    actingFor: 'Acting for the purpose',
    pickHelp:
      'Several purposes of your role fit this screen: pick the one you are working for now (it is recorded).',
    noneTitle: 'No purpose for this work',
    noneText: "The privacy policy gives your role no purpose that covers this screen's data.",
  },
  nav: {
    menu: 'Menu',
    label: 'Screens',
    start: 'Start',
    account: 'My account',
    requests: 'Privacy requests',
    people: 'People',
    organisations: 'Organisations',
    catalogue: 'Catalogue',
    sales: 'Quotes, orders, contracts',
    billing: 'Billing',
    dossier: 'Technical dossier',
    staff: 'Staff',
    tokens: 'API tokens',
  },
  start: {
    title: 'Start',
    intro: 'Signed in at {{tenant}}. Your work today:',
  },
  account: {
    title: 'My account',
    changePassword: 'Change my password',
    mfaText: 'Set up a new authenticator app (a new phone). Your earlier recovery codes are replaced.',
    newAuthenticator: 'Set up a new authenticator',
  },
};

type Strings<T> = { [K in keyof T]: T[K] extends string ? string : Strings<T[K]> };
export type Messages = Strings<typeof en>;
