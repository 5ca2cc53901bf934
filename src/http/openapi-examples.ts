/**
 * Request-body examples of the OpenAPI document (decision 0110), per route (`METHOD url`, the url
 * as registered). A route may instead declare its example where its body schema is declared
 * (`z.object({…}).meta({ example })`); that one wins. `describeRoute` attaches these at
 * registration and refuses an example its own schema does not accept, so they cannot drift.
 * Values are fictitious (example.be addresses, test IBANs, checked OGMs), never real people.
 */

const CSV_STATEMENT = [
  'date,amount,communication,reference,counterparty',
  '2026-11-12,60.50,+++120/2600/42147+++,BNK-2026-11-12-0001,Bakkerij Vermeulen',
  '13/11/2026,"18,15",+++120/2600/42147+++,BNK-2026-11-13-0002,Bakkerij Vermeulen',
  '2026-11-14,-35.00,,BNK-2026-11-14-0003,Telenet',
].join('\n');

const CSV_TARIFF = [
  'prefix,price_per_minute,minimum_seconds,increment_seconds,connection_fee,valid_from,valid_to',
  '3247,0.12,30,6,0.05,2026-01-01,',
  '32,0.06,60,60,0,2026-01-01,',
  '31,0.10,1,1,0,2026-01-01,2026-12-31',
].join('\n');

const CSV_ITFLOW = [
  'Name,Description,Username,Password,TOTP,URI',
  'Microsoft 365 admin,"Global admin, break-glass",admin@bakkerij-example.onmicrosoft.com,Voorbeeld-Wachtwoord-1,JBSWY3DPEHPK3PXP,https://admin.microsoft.com',
  'Router,,admin,Voorbeeld-Wachtwoord-2,,https://192.168.1.1',
].join('\n');

const ADDRESS = { street: 'Doorniksestraat 12', postalCode: '8500', city: 'Kortrijk', country: 'BE' };
const CONTRACT_LINES = [{ productId: 3, quantity: 2, unitPriceCents: 1995 }];

export const REQUEST_BODY_EXAMPLES: Readonly<Record<string, unknown>> = {
  // Staff authentication and accounts
  'POST /api/v1/auth/login': {
    tenant: 'voiceking',
    email: 'an.peeters@voiceking.example.be',
    password: 'correct-horse-battery-staple',
  },
  'POST /api/v1/auth/mfa/verify': { code: '492039' },
  'POST /api/v1/auth/mfa/step-up': { code: '492039' },
  'POST /api/v1/auth/mfa/confirm': { code: '492039' },
  'POST /api/v1/auth/password': {
    currentPassword: 'the-one-time-password-you-got',
    newPassword: 'a-long-passphrase-of-your-own',
  },
  'POST /api/v1/staff': {
    email: 'jens.desmet@voiceking.example.be',
    displayName: 'Jens De Smet',
    role: 'billing',
  },
  'PUT /api/v1/staff/:staffId/role': { role: 'support' },
  'POST /api/v1/tokens': { label: 'accounting sync (nightly)', role: 'billing' },

  // People and organisations
  'POST /api/v1/people': {
    subjectType: 'customer',
    familyName: 'Vermeulen',
    givenName: 'Lotte',
    gender: 'female',
    preferredLanguage: 'nl',
    email: 'lotte.vermeulen@example.be',
    phone: '+32 470 12 34 56',
    address: ADDRESS,
    jobTitle: 'zaakvoerder',
    notes: 'Belt liefst na 17 uur.',
    source: 'data_subject',
  },
  'PATCH /api/v1/people/:id': {
    email: 'lotte@bakkerij-vermeulen.example.be',
    address: { street: 'Grote Markt 3', postalCode: '8500', city: 'Kortrijk', country: 'BE' },
  },
  'POST /api/v1/people/:id/parental-consent': {
    relation: 'parent',
    verificationMethod: 'id_card_seen',
    evidenceReference: 'scan 2026-11-03 nr. 17',
  },
  'POST /api/v1/people/:id/report-minor': { birthDate: '2012-04-17' },
  'POST /api/v1/organisations': {
    name: 'Bakkerij Vermeulen BV',
    enterpriseNumber: 'BE0653.989.638',
    country: 'BE',
    address: { street: 'Grote Markt 3', postalCode: '8500', city: 'Kortrijk' },
    billingAddress: { street: 'Postbus 120', postalCode: '8500', city: 'Kortrijk', country: 'BE' },
    vatRegistered: true,
    buyerReference: 'KOST-4410',
  },
  'PATCH /api/v1/organisations/:id': { vatRegistered: false, buyerReference: null },

  // Contracts
  'POST /api/v1/products': {
    code: 'VOIP-BASIC',
    name: 'VoIP-lijn basis',
    kind: 'subscription',
    priceCents: 1995,
    vatRatePercent: 21,
    isActive: true,
  },
  'PATCH /api/v1/products/:productId': { priceCents: 2195, isActive: true },
  'POST /api/v1/quotes': { subjectId: 42, validUntil: '2026-12-31', lines: CONTRACT_LINES },
  // From an accepted quote (its lines); a direct order gives subjectId and lines instead.
  'POST /api/v1/orders': { quoteId: 7, deliveryAddress: ADDRESS },
  'POST /api/v1/orders/:orderId/deliver': { deliveredAt: '2026-11-20T09:30:00.000Z' },
  // Without an order: the person and the lines (with orderId, the order's lines and person).
  'POST /api/v1/contracts': { subjectId: 42, startDate: '2026-12-01', endDate: null, lines: CONTRACT_LINES },
  'POST /api/v1/contracts/:contractId/terminate': {
    terminatedOn: '2027-03-31',
    channel: 'written',
    reasonCode: 'moved_abroad',
  },

  // Billing
  'PUT /api/v1/billing/settings': {
    payeeIban: 'BE68 5390 0754 7034',
    payeeBic: 'GKCCBEBB',
    paymentTermDays: 30,
    sepaCreditorId: 'BE69ZZZ050D000000008',
    reminders: { enabled: true, firstReminderDays: 14, secondReminderDays: 28, formalNoticeDays: 42 },
  },
  'POST /api/v1/invoice-runs': {
    period: '2026-10',
    issueDate: '2026-11-05',
    allowUnrated: false,
    callsPurpose: 'call_billing',
  },
  'POST /api/v1/invoices/:id/credit-notes': { reasonCode: 'billing_error', amountExclVatCents: 1500 },
  'POST /api/v1/payments/import': CSV_STATEMENT,
  'POST /api/v1/payments/:id/match': { invoiceId: 42 },
  'PUT /api/v1/contracts/:id/billing-options': {
    itemisedCalls: true,
    purchaseOrderNumber: 'PO-4500012345',
    buyerReference: 'KOST-4410',
  },
  'POST /api/v1/customers/:id/bank-accounts': {
    iban: 'BE68 5390 0754 7034',
    directDebitMandate: 'VK-MANDATE-000042',
    mandateSignedOn: '2026-10-15',
  },
  'POST /api/v1/invoices/:id/dispute': {
    reason: 'The customer contests the call charges of October in a letter of 3 November.',
  },
  'POST /api/v1/customers/:id/credit-scores': { score: 720, source: 'graydon', observedOn: '2026-11-02' },

  // Telephony
  'POST /api/v1/phone-numbers/assignments': {
    number: '+32 56 12 34 56',
    subjectId: 42,
    contractRef: 'C-2026-0042',
    from: '2026-12-01',
  },
  'POST /api/v1/line-identifiers': {
    subjectId: 42,
    kind: 'channel',
    value: 'PJSIP/trunk-',
    from: '2026-12-01',
  },
  'POST /api/v1/line-identifiers/:id/end': { at: '2027-01-01' },
  'POST /api/v1/phone-numbers/porting': {
    number: '+32 56 12 34 56',
    direction: 'in',
    at: '2026-12-01 08:00:00',
  },
  'POST /api/v1/tariffs': CSV_TARIFF,
  'POST /api/v1/call-record-imports':
    '"","056223344","0470123456","from-internal","""Klant"" <056223344>","SIP/201-00000001","SIP/trunk-00000002","Dial","SIP/trunk","2026-11-03 09:00:00","2026-11-03 09:00:04","2026-11-03 09:01:04",64,60,"ANSWERED","DOCUMENTATION","1762160400.1","","","1762160400.1",1\n',

  // Retention
  'POST /api/v1/retention/holds': {
    subjectId: 42,
    reason: 'Litigation: summons of 2 November 2026 (Rechtbank Kortrijk)',
    endsOn: '2028-12-31',
  },

  'POST /api/v1/retention/cases': {
    name: 'Rechtbank Kortrijk A/26/0173',
    reason: 'Collection case against a former customer; the file stays complete until judgment.',
    endsOn: '2028-12-31',
    subjectIds: [42, 57],
  },
  'POST /api/v1/retention/cases/:caseId/people': { subjectIds: [63] },

  // Technical dossier
  'POST /api/v1/customers/:subjectId/dossier/assets': {
    kind: 'printer',
    brand: 'Brother',
    model: 'MFC-L8900CDW',
    serial: 'E78123J9N456789',
    location: 'Kantoor eerste verdieping',
    hostname: 'printer-1.bakkerij.lan',
    ipAddress: '192.168.1.20',
    purchasedOn: '2024-03-12',
    warrantyUntil: '2027-03-12',
  },
  'POST /api/v1/customers/:subjectId/dossier/credentials': {
    system: 'Microsoft 365 admin',
    url: 'https://admin.microsoft.com',
    username: 'admin@bakkerij-example.onmicrosoft.com',
    password: 'Voorbeeld-Wachtwoord-1',
    notes: 'Break-glass account; MFA on the shop phone.',
  },
  'POST /api/v1/customers/:subjectId/dossier/facts': {
    kind: 'licence',
    label: 'Microsoft 365 Business Standard',
    seats: 6,
    expiresOn: '2027-05-31',
  },
  'POST /api/v1/customers/:subjectId/dossier/import': CSV_ITFLOW,
  'POST /api/v1/dossier/credentials/:credentialId/reveal': {
    field: 'password',
    reason: 'Ticket 4711: the customer is locked out of the admin portal',
  },
  'POST /api/v1/dossier/credentials/:credentialId/totp-code': {
    reason: 'Ticket 4711: sign-in for the licence change',
  },
  'POST /api/v1/dossier/credentials/:credentialId/share': {
    field: 'password',
    reason: 'Ticket 4712: the customer’s new office manager takes over',
    expiresInHours: 24,
  },

  // Rights requests (staff)
  'POST /api/v1/requests': {
    kind: 'access',
    channel: 'letter',
    subjectId: 42,
    language: 'nl',
    scanReference: 'post 2026-11-03 nr. 12',
    verificationMethod: 'id_card_seen',
  },
  'POST /api/v1/requests/:id/verify': { method: 'reply_from_address_on_file' },
  'POST /api/v1/requests/:id/extend': {
    until: '2027-02-03',
    reason: 'Many requests at once after the data breach notice; Art. 12(3) extension.',
  },
  'POST /api/v1/requests/:id/fulfil': {
    corrections: { familyName: 'Vermeulen-De Smet', email: 'lotte@bakkerij-vermeulen.example.be' },
  },
  'POST /api/v1/requests/:id/reject': {
    reason: 'The person could not be identified with the contact details on file.',
  },
  'POST /api/v1/requests/restrictions/:subjectId/lift': { ground: 'accuracy_verified' },

  // Rights requests and the privacy portal (public)
  'POST /t/:slug/privacy/requests': {
    kind: 'portability',
    email: 'lotte.vermeulen@example.be',
    language: 'nl',
    transferTo: 'https://privacy.nieuwe-provider.example.be/kluis-import',
  },
  'POST /t/:slug/privacy/requests/:id/verify': { code: '583920' },
  'POST /t/:slug/account/link': { email: 'lotte.vermeulen@example.be' },
  'POST /t/:slug/account/login': {
    email: 'lotte.vermeulen@example.be',
    password: 'my-own-portal-passphrase',
  },
  'POST /t/:slug/account/password': {
    password: 'my-own-portal-passphrase',
    currentPassword: 'the-one-set-before',
  },
  'POST /t/:slug/account/requests': { kind: 'objection', purposes: ['newsletter_customers'] },

  // Added by other issues' routes (letters, dossier edits and export, the portal's HTML forms).
  'POST /api/v1/requests/:id/letter-preview': {
    outcome: 'extended',
    reason: 'Many requests at once after the data breach notice.',
    until: '2027-02-03',
  },
  'PATCH /api/v1/dossier/assets/:assetId': { location: 'Kantoor gelijkvloers', ipAddress: '192.168.1.21' },
  'PATCH /api/v1/dossier/credentials/:credentialId': {
    username: 'beheer@bakkerij-example.onmicrosoft.com',
    notes: 'Owner changed after the takeover.',
  },
  'PATCH /api/v1/dossier/facts/:factId': { seats: 8, expiresOn: '2028-05-31' },
  'POST /api/v1/customers/:subjectId/dossier/export': {
    kind: 'credentials',
    format: 'itflow',
    withSecrets: false,
    reason: 'Ticket 4720: the customer moves to another IT provider',
  },
  'POST /t/:slug/account/dossier/credentials/:credentialId/reveal': { field: 'password' },
  // The portal's forms (application/x-www-form-urlencoded), each with the page's CSRF token.
  'POST /t/:slug/rights/:right': {
    csrf: 'k3c1Xb9-form-token',
    email: 'lotte.vermeulen@example.be',
    language: 'nl',
  },
  'POST /t/:slug/rights/requests/:id': {
    csrf: 'k3c1Xb9-form-token',
    token: 'r7Qe2m-status-token',
    code: '583920',
  },
  'POST /t/:slug/account/login-link': { csrf: 'k3c1Xb9-form-token', email: 'lotte.vermeulen@example.be' },
  'POST /t/:slug/account/login-password': {
    csrf: 'k3c1Xb9-form-token',
    email: 'lotte.vermeulen@example.be',
    password: 'my-own-portal-passphrase',
  },
  'POST /t/:slug/account/logout': { csrf: 'k3c1Xb9-form-token' },
  'POST /t/:slug/account/login-token': {
    csrf: 'k3c1Xb9-form-token',
    token: 'Vb3kQ9xL2mN7pR4sT8wY1zA6cE0fH5jK-login-tok',
  },
  'POST /t/:slug/privacy/downloads/:token': { csrf: 'k3c1Xb9-form-token' },
  'POST /t/:slug/dossier/shares/:token': { csrf: 'k3c1Xb9-form-token' },
  'POST /api/v1/customers/:subjectId/dossier/attachments': {
    fileName: 'firewall-config.txt',
    contentType: 'text/plain',
    content: 'aG9zdG5hbWUgZnctMDEKYWRtaW4gdmxhbiAxMAo=',
    secret: true,
    note: 'Configuratie na de migratie van november',
  },
  'POST /api/v1/dossier/attachments/:attachmentId/reveal': {
    reason: 'Ticket 4712: restore the firewall after a hardware swap',
  },
  'POST /t/:slug/report': {
    csrf: 'k3c1Xb9-form-token',
    kind: 'insecurity',
    description: 'Een factuur van iemand anders stond in mijn account.',
    noticedOn: '2026-11-27',
  },
  'POST /t/:slug/account/my-dossier/reveal': {
    csrf: 'k3c1Xb9-form-token',
    credentialId: '17',
    field: 'password',
  },
  'POST /t/:slug/account/my-dossier/attachment': {
    csrf: 'k3c1Xb9-form-token',
    attachmentId: '4',
  },
  'POST /t/:slug/account/my-consents': {
    csrf: 'k3c1Xb9-form-token',
    event: 'withdrawn',
    purpose: 'newsletter',
  },
  'POST /t/:slug/account/correct': {
    csrf: 'k3c1Xb9-form-token',
    email: 'lotte@bakkerij-vermeulen.example.be',
    street: 'Grote Markt 3',
    postalCode: '8500',
    city: 'Kortrijk',
  },
  'POST /t/:slug/account/erase': { csrf: 'k3c1Xb9-form-token', confirm: 'yes' },
  'POST /t/:slug/account/settings/language': { csrf: 'k3c1Xb9-form-token', language: 'fr' },
  'POST /t/:slug/account/settings/password': {
    csrf: 'k3c1Xb9-form-token',
    currentPassword: 'the-one-set-before',
    password: 'a-new-portal-passphrase',
  },
};
