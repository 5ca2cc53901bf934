import { addScreenMessages } from '../../i18n/screen-messages.js';

// The audit trail card and the audit verification screen, loaded with their chunks (decision 0320).
// The words for the log's codes (actions, reasons, decisions) are in audit-words.ts (decision 1260).
const en = {
  trailTitle: 'Who looked at this person',
  trailIntro:
    'Every decision of the access gate that named this person, newest first: who, in which role, for which purpose, what and which data. Reading this list is recorded too.',
  trailCaption: 'The audit trail of this person',
  when: 'When',
  who: 'Who',
  staff: 'staff member no. {{id}}',
  self: 'the person themself',
  otherPerson: 'another person',
  system: 'the system ({{id}})',
  role: 'Role',
  purpose: 'Purpose',
  action: 'What',
  categories: 'Data',
  recorded: 'As recorded:',
  batch: 'with {{count}} other people',
  noEntries: 'Nobody has looked at this person yet.',
  more: 'Older entries',
  staffNote: 'Staff are named by number: the admin’s staff screen says who holds a number.',
  verifyTitle: 'Audit log',
  verifyIntro:
    'The audit log is a hash chain: each entry seals the one before it, and signed checkpoints are kept outside the database. Verifying recomputes the whole chain of your organisation and compares it with every checkpoint. It changes nothing.',
  verify: 'Verify the audit log now',
  intact: 'The audit log is intact',
  intactText:
    'All {{entries}} entries hold, up to the last one; {{checkpoints}} checkpoints in the database and {{anchors}} outside it agree.',
  broken: 'The audit log is broken',
  brokenText:
    'The first {{entries}} entries hold. Entry {{seq}} does not: {{problem}}. Keep the database as it is and tell your operator; <code>kluis audit verify</code> says the same.',
  problems: {
    hash_mismatch: 'its content was changed',
    broken_link: 'it does not follow the entry before it (an entry was added or removed)',
    gap: 'an entry is missing',
    entry_mac_invalid: 'it was written without the organisation’s key',
    entry_mac_missing: 'it carries no signature',
    checkpoint_mismatch: 'a signed checkpoint disagrees with the chain',
    checkpoint_mac_invalid: 'a checkpoint was not signed with the organisation’s key',
    checkpoint_backwards: 'the checkpoints go back in time (the chain was cut and rebuilt)',
    truncated: 'the chain ends before a signed checkpoint',
    unanchored: 'it is older than an hour and no checkpoint outside the database covers it',
    anchor_unreadable: 'a place that keeps checkpoints cannot be read',
  },
  verifiedAt: 'Verified at {{at}}',
  setBacksTitle: 'Restored from a backup',
  setBackItem:
    'On {{at}} the log was restored to entry {{seq}}. Entries {{from}} to {{to}} of the chain before it went with the restore; their checkpoints, signed before it, are not a break.',
  setBackItemMatch:
    'On {{at}} the log was restored to entry {{seq}}; checkpoints of an earlier chain that do not match this one, signed before it, are not a break.',
  copiesTitle: 'Copies waiting beside the chain',
  copiesText_one:
    'One waiting entry ({{ids}}) is a copy of an entry already in the chain, made by someone with the database login. Kluis never chains it, so the log stays intact; your operator may delete it (README, the audit log runbook).',
  copiesText_other:
    '{{count}} waiting entries ({{ids}}) are copies of entries already in the chain, made by someone with the database login. Kluis never chains them, so the log stays intact; your operator may delete them (README, the audit log runbook).',
  copiesMore: 'and {{more}} more',
  displacedTitle: 'Genuine entries pushed out of the chain',
  displacedIntro:
    'Someone with the database login put an entry into the chain that carries the mark of a genuine entry still waiting. The waiting entry is the true record of that access: Kluis keeps it, signed, and never chains it. Never delete it.',
  displacedItem:
    'Waiting entry {{pendingId}} is the genuine record; entry {{seq}} in the chain is the forgery.',
  displacedRows: '{{rows}} identical rows carry its mark; together they are this one record.',
};

addScreenMessages('audit', {
  en,
  nl: {
    trailTitle: 'Wie keek naar deze persoon',
    trailIntro:
      'Elke beslissing van de toegangspoort die deze persoon noemde, nieuwste eerst: wie, in welke rol, voor welk doel, wat en welke gegevens. Ook het lezen van deze lijst wordt vastgelegd.',
    trailCaption: 'Het auditspoor van deze persoon',
    when: 'Wanneer',
    who: 'Wie',
    staff: 'medewerker nr. {{id}}',
    self: 'de persoon zelf',
    otherPerson: 'een andere persoon',
    system: 'het systeem ({{id}})',
    role: 'Rol',
    purpose: 'Doel',
    action: 'Wat',
    categories: 'Gegevens',
    recorded: 'Zo vastgelegd:',
    batch: 'met {{count}} andere personen',
    noEntries: 'Niemand heeft al naar deze persoon gekeken.',
    more: 'Oudere regels',
    staffNote:
      'Medewerkers staan er met hun nummer: het personeelsscherm van de beheerder zegt wie een nummer heeft.',
    verifyTitle: 'Auditlog',
    verifyIntro:
      'De auditlog is een hashketen: elke regel verzegelt de vorige, en ondertekende controlepunten worden buiten de databank bewaard. Controleren herberekent de hele keten van uw organisatie en vergelijkt ze met elk controlepunt. Er verandert niets.',
    verify: 'Controleer de auditlog nu',
    intact: 'De auditlog is ongeschonden',
    intactText:
      'Alle {{entries}} regels kloppen, tot de laatste; {{checkpoints}} controlepunten in de databank en {{anchors}} erbuiten stemmen overeen.',
    broken: 'De auditlog is geschonden',
    brokenText:
      'De eerste {{entries}} regels kloppen. Regel {{seq}} niet: {{problem}}. Laat de databank zoals ze is en verwittig uw beheerder; <code>kluis audit verify</code> zegt hetzelfde.',
    problems: {
      hash_mismatch: 'de inhoud werd gewijzigd',
      broken_link: 'ze volgt niet op de vorige regel (er werd een regel toegevoegd of verwijderd)',
      gap: 'er ontbreekt een regel',
      entry_mac_invalid: 'ze werd geschreven zonder de sleutel van de organisatie',
      entry_mac_missing: 'ze draagt geen handtekening',
      checkpoint_mismatch: 'een ondertekend controlepunt spreekt de keten tegen',
      checkpoint_mac_invalid: 'een controlepunt werd niet met de sleutel van de organisatie ondertekend',
      checkpoint_backwards: 'de controlepunten gaan terug in de tijd (de keten werd ingekort en herbouwd)',
      truncated: 'de keten eindigt vóór een ondertekend controlepunt',
      unanchored: 'ze is ouder dan een uur en geen controlepunt buiten de databank dekt ze',
      anchor_unreadable: 'een plaats die controlepunten bewaart, is niet leesbaar',
    },
    verifiedAt: 'Gecontroleerd op {{at}}',
    setBacksTitle: 'Teruggezet uit een back-up',
    setBackItem:
      'Op {{at}} werd de auditlog teruggezet tot regel {{seq}}. De regels {{from}} tot {{to}} van de keten daarvoor gingen mee met die terugzetting; hun controlepunten, ervoor ondertekend, zijn geen schending.',
    setBackItemMatch:
      'Op {{at}} werd de auditlog teruggezet tot regel {{seq}}; controlepunten van een eerdere keten die niet met deze overeenstemmen, ervoor ondertekend, zijn geen schending.',
    copiesTitle: 'Kopieën naast de keten',
    copiesText_one:
      'Eén wachtende vermelding ({{ids}}) is een kopie van een vermelding die al in de keten staat, gemaakt door iemand met de databaselogin. Kluis neemt ze nooit op in de keten, dus het logboek blijft intact; uw beheerder mag ze verwijderen (README, het draaiboek van het auditlogboek).',
    copiesText_other:
      '{{count}} wachtende vermeldingen ({{ids}}) zijn kopieën van vermeldingen die al in de keten staan, gemaakt door iemand met de databaselogin. Kluis neemt ze nooit op in de keten, dus het logboek blijft intact; uw beheerder mag ze verwijderen (README, het draaiboek van het auditlogboek).',
    copiesMore: 'en nog {{more}}',
    displacedTitle: 'Echte vermeldingen uit de keten geduwd',
    displacedIntro:
      'Iemand met de databaselogin zette een vermelding in de keten die het kenmerk draagt van een echte vermelding die nog wacht. De wachtende vermelding is het ware verslag van die toegang: Kluis bewaart ze, ondertekend, en neemt ze nooit op in de keten. Verwijder ze nooit.',
    displacedItem:
      'Wachtende vermelding {{pendingId}} is het echte verslag; vermelding {{seq}} in de keten is de vervalsing.',
    displacedRows: '{{rows}} identieke rijen dragen haar kenmerk; samen zijn ze dit ene verslag.',
  },
  fr: {
    trailTitle: 'Qui a consulté cette personne',
    trailIntro:
      'Chaque décision de la porte d’accès qui nommait cette personne, la plus récente d’abord : qui, dans quel rôle, pour quelle finalité, quoi et quelles données. La lecture de cette liste est enregistrée elle aussi.',
    trailCaption: 'La piste d’audit de cette personne',
    when: 'Quand',
    who: 'Qui',
    staff: 'membre du personnel n° {{id}}',
    self: 'la personne elle-même',
    otherPerson: 'une autre personne',
    system: 'le système ({{id}})',
    role: 'Rôle',
    purpose: 'Finalité',
    action: 'Quoi',
    categories: 'Données',
    recorded: 'Tel qu’enregistré :',
    batch: 'avec {{count}} autres personnes',
    noEntries: 'Personne n’a encore consulté cette personne.',
    more: 'Entrées plus anciennes',
    staffNote:
      'Le personnel est désigné par son numéro : l’écran du personnel de l’administrateur dit qui porte un numéro.',
    verifyTitle: 'Journal d’audit',
    verifyIntro:
      'Le journal d’audit est une chaîne de hachages : chaque entrée scelle la précédente, et des points de contrôle signés sont gardés hors de la base de données. Vérifier recalcule toute la chaîne de votre organisation et la compare à chaque point de contrôle. Rien ne change.',
    verify: 'Vérifier le journal d’audit maintenant',
    intact: 'Le journal d’audit est intact',
    intactText:
      'Les {{entries}} entrées tiennent, jusqu’à la dernière ; {{checkpoints}} points de contrôle dans la base et {{anchors}} en dehors concordent.',
    broken: 'Le journal d’audit est rompu',
    brokenText:
      'Les {{entries}} premières entrées tiennent. L’entrée {{seq}} non : {{problem}}. Laissez la base de données en l’état et prévenez votre opérateur ; <code>kluis audit verify</code> dit la même chose.',
    problems: {
      hash_mismatch: 'son contenu a été modifié',
      broken_link: 'elle ne suit pas l’entrée précédente (une entrée a été ajoutée ou retirée)',
      gap: 'une entrée manque',
      entry_mac_invalid: 'elle a été écrite sans la clé de l’organisation',
      entry_mac_missing: 'elle ne porte pas de signature',
      checkpoint_mismatch: 'un point de contrôle signé contredit la chaîne',
      checkpoint_mac_invalid: 'un point de contrôle n’a pas été signé avec la clé de l’organisation',
      checkpoint_backwards:
        'les points de contrôle reculent dans le temps (la chaîne a été coupée et reconstruite)',
      truncated: 'la chaîne s’arrête avant un point de contrôle signé',
      unanchored: 'elle date de plus d’une heure et aucun point de contrôle hors de la base ne la couvre',
      anchor_unreadable: 'un lieu qui garde des points de contrôle est illisible',
    },
    verifiedAt: 'Vérifié le {{at}}',
    setBacksTitle: 'Restauré depuis une sauvegarde',
    setBackItem:
      'Le {{at}}, le journal a été restauré jusqu’à l’entrée {{seq}}. Les entrées {{from}} à {{to}} de la chaîne d’avant sont parties avec la restauration ; leurs points de contrôle, signés avant, ne sont pas une rupture.',
    setBackItemMatch:
      'Le {{at}}, le journal a été restauré jusqu’à l’entrée {{seq}} ; les points de contrôle d’une chaîne antérieure qui ne concordent pas, signés avant, ne sont pas une rupture.',
    copiesTitle: 'Copies à côté de la chaîne',
    copiesText_one:
      'Une entrée en attente ({{ids}}) est la copie d’une entrée déjà dans la chaîne, faite par quelqu’un qui a l’accès à la base de données. Kluis ne l’enchaîne jamais : le journal reste intact ; votre opérateur peut la supprimer (README, la procédure du journal d’audit).',
    copiesText_other:
      '{{count}} entrées en attente ({{ids}}) sont des copies d’entrées déjà dans la chaîne, faites par quelqu’un qui a l’accès à la base de données. Kluis ne les enchaîne jamais : le journal reste intact ; votre opérateur peut les supprimer (README, la procédure du journal d’audit).',
    copiesMore: 'et {{more}} autres',
    displacedTitle: 'Entrées authentiques écartées de la chaîne',
    displacedIntro:
      'Quelqu’un qui a l’accès à la base de données a mis dans la chaîne une entrée portant la marque d’une entrée authentique encore en attente. L’entrée en attente est le vrai relevé de cet accès : Kluis la garde, signée, et ne l’enchaîne jamais. Ne la supprimez jamais.',
    displacedItem:
      'L’entrée en attente {{pendingId}} est le vrai relevé ; l’entrée {{seq}} de la chaîne est la falsification.',
    displacedRows: '{{rows}} lignes identiques portent sa marque ; ensemble, elles sont ce seul relevé.',
  },
});
