// The generated Dutch statement for VoiceKing must carry every fact and promise of the seed
// statement (../shared/seeds/000_…): one test per REQUIREMENTS.md row that concerns it.
import { ALL_PROMISES } from './promises.js';
import { describe, expect, it } from 'vitest';
import { generateStatement } from './statement.generator.js';
import { STATEMENT_TEXTS } from './statement.texts.js';
import { capitalize, listItems, loadSeedPolicy, section } from './statement.test-helpers.js';

const policy = loadSeedPolicy('voiceking');
const md = generateStatement(policy, { lang: 'nl', format: 'md', enforced: ALL_PROMISES });
const nl = STATEMENT_TEXTS.nl;

const controller = section(md, 'Wie is verantwoordelijk');
const data = section(md, 'Welke persoonsgegevens');
const purposes = section(md, 'Waarvoor en op welke rechtsgrond');
const newsletter = section(md, 'Nieuwsbrief');
const security = section(md, 'Hoe beveiligen');
const retention = section(md, 'Hoe lang bewaren');
const sharing = section(md, 'Met wie delen');
const cookies = section(md, 'Cookies');
const minors = section(md, 'Minderjarigen');
const rights = section(md, 'Uw rechten');
const complaints = section(md, 'Klachten');
const changes = section(md, 'Wijzigingen');

/** The list item of the purposes section for a purpose key. */
function purposeItem(key: string): string {
  const purpose = policy.purposes[key];
  if (purpose === undefined) throw new Error(`no purpose ${key}`);
  const item = listItems(purposes).find((line) => line.startsWith(`${capitalize(purpose.label.nl)}.`));
  if (item === undefined) throw new Error(`purpose ${key} is not in the statement`);
  return item;
}

function expectAll(text: string, facts: readonly string[]): void {
  for (const fact of facts) expect(text, `missing: ${fact}`).toContain(fact);
}

describe('VoiceKing: the generated Dutch statement holds every fact of the seed once every promise is kept by a module', () => {
  // The statement's wording for VK-1; the behaviour is tested end to end elsewhere.
  it('the Dutch statement names the controller, address, enterprise number, phone, e-mail and website', () => {
    expect(listItems(controller)).toEqual([
      'Naam: VoiceKing CVBA',
      'Adres: Engelse Wandeling 2 K8V, 8500 Kortrijk',
      'Ondernemingsnummer: BE0653.989.638',
      'Telefoon: 0800 82 027',
      'E-mail: info@voiceking.be',
      'Website: www.voiceking.be',
      'Vragen over privacy: info@voiceking.be, 0800 82 027',
    ]);
  });

  // The statement's wording for VK-2; the behaviour is tested end to end elsewhere.
  it('every data category of the seed is listed (identifying, contact, professional, financial, contract)', () => {
    expectAll(data, [
      'naam en voornaam',
      'geslacht',
      'voorkeurstaal',
      'e-mailadres',
      'telefoonnummer',
      'adres',
      'functie, titel, beslissingsbevoegdheid',
      'externe kredietscores',
      'bankrekeningnummer(s)',
      'commerciële informatie over producten en diensten',
      'facturatie- en betalingsgegevens',
      'authenticatiegegevens (gebruikersnaam, wachtwoord)',
    ]);
    // …and nothing the policy declares is left out.
    for (const category of Object.values(policy.categories)) expect(data).toContain(category.label.nl);
    expect(data).toContain(
      'Wij krijgen kredietinformatie (externe kredietscores) van externe kredietinformatiebureaus.',
    );
  });

  // The statement's wording for VK-3; the behaviour is tested end to end elsewhere.
  it('website visit data and what it is used for: administration, traffic filtering, statistics (only with consent)', () => {
    expectAll(data, [
      'IP-adres',
      'apparaattype, besturingssysteem, browsertype',
      'details van uw bezoeken aan onze website',
    ]);
    expectAll(purposeItem('website_operation'), [
      'systeembeheer',
      'verkeer filteren',
      'gebruikersdomeinen opzoeken',
      '6 maanden',
    ]);
    const statistics = purposeItem('website_statistics');
    expectAll(statistics, [
      'Statistieken over het gebruik van onze website rapporteren',
      'Rechtsgrond: uw toestemming.',
      'IP-adres',
    ]);
  });

  // The statement's wording for VK-4; the behaviour is tested end to end elsewhere.
  it('every purpose of the seed is listed with its legal basis', () => {
    expect(purposes).toContain(
      'Wij verwerken persoonsgegevens op basis van uw toestemming, de uitvoering van een overeenkomst met u (of stappen op uw verzoek vóór een overeenkomst), een wettelijke verplichting en ons gerechtvaardigd belang.',
    );
    for (const [key, purpose] of Object.entries(policy.purposes)) {
      expect(purposeItem(key)).toContain(`Rechtsgrond: ${nl.legalBases[purpose.legalBasis]}.`);
    }
    // The seed's own list, section 5.
    expectAll(purposes, [
      'Verwerking van uw bestelling of contract voor telecommunicatiediensten',
      'Telefonisch of e-mailcontact over installatie, support of opvolging',
      'Reageren op technische, commerciële of niet-commerciële vragen die u indient',
      'Een account aanmaken op onze front- of backofficetoepassingen',
      'Correcte toegang tot en gebruik van de website en diensten',
      'U informeren over wijzigingen van onze diensten en producten',
      'Bepalen of u in aanmerking komt als klant of partner',
      'Verwerken van sollicitaties die u indient',
      'Facturatie en betalingen',
      'Uw site-ervaring personaliseren',
      'Interesseprofielen opbouwen voor advertentiedoeleinden',
      'Nieuwsbrief en andere commerciële of niet-commerciële berichten aan klanten',
    ]);
  });

  // The statement's wording for VK-5; the behaviour is tested end to end elsewhere.
  it('job applications are processed as their own purpose with their own retention', () => {
    expect(md).toContain('sollicitanten');
    expectAll(purposeItem('recruitment'), [
      'sollicitatiegegevens (cv, motivatie)',
      'Bewaring: 12 maanden nadat wij voor het laatst gegevens van u ontvingen.',
    ]);
  });

  // The statement's wording for VK-6; the behaviour is tested end to end elsewhere.
  // Decision 0912: the data it is built from (the links clicked in our mails) and the ways that withdraw it.
  it('interest profiles for advertising only with consent, and an objection is free', () => {
    expectAll(purposeItem('interest_profiles'), [
      'Rechtsgrond: uw toestemming.',
      'Gegevens: interesseprofiel; of u onze e-mails opent, leest of verwijdert en op welke links u klikt.',
      'U kunt uw toestemming altijd intrekken via de persoonlijke instellingen van uw account, de afmeldlink in elke mailing of e-mail naar info@voiceking.be.',
      'U kunt zich hier altijd kosteloos tegen verzetten.',
    ]);
    expect(purposeItem('interest_profiles')).not.toContain('bezoeken aan onze website');
    expect(purposeItem('interest_profiles')).not.toContain('cookie-instellingen');
  });

  // The statement's wording for VK-7; the behaviour is tested end to end elsewhere.
  it('data in a secured environment, consulted only by the limited staff who need it', () => {
    expectAll(security, [
      'beveiligde omgeving die niet toegankelijk is voor het publiek',
      'beperkt aantal medewerkers dat ze voor de uitoefening van hun functie nodig heeft',
      'misbruik, verlies, onbevoegde toegang, ongewenste openbaarmaking en ongeoorloofde wijziging',
      'Interne policy omtrent fysieke toegang tot kantoor en bedrijfswagens',
      'Interne policy omtrent gebruik van fysieke documenten: clean desk policy',
      'versnippering van documenten',
      'bewaring op veilige en beveiligde dragers',
    ]);
    for (const measure of policy.security.measures) {
      for (const item of measure.items) expect(security).toContain(item.nl);
    }
  });

  // The statement's wording for VK-8; the behaviour is tested end to end elsewhere.
  it('password management and access codes are among the measures', () => {
    expectAll(security, [
      'beveiliging met toegangscode',
      'wachtwoordenbeheer en wijzigingsinterval',
      'geheimhouden van digitale toegangscodes',
    ]);
  });

  // The statement's wording for VK-9; the behaviour is tested end to end elsewhere.
  it('suspected misuse or insecurity can be reported to customer service or info@voiceking.be', () => {
    expect(security).toContain(
      'aanwijzingen van misbruik? Meld het via onze klantenservice (0800 82 027) of e-mail naar info@voiceking.be.',
    );
  });

  // The statement's wording for VK-10; the behaviour is tested end to end elsewhere.
  it('no disclosure to third parties except a legal obligation or a request of judicial authorities or police', () => {
    const items = listItems(sharing);
    expect(items).toHaveLength(Object.keys(policy.recipients).length);
    const authority = items.find((item) => item.startsWith('Gerechtelijke autoriteiten en politiediensten'));
    expect(authority).toContain(
      'Alleen om te voldoen aan een wettelijke verplichting of op hun uitdrukkelijk verzoek.',
    );
    // Every other recipient is a processor: no third party receives data for its own use.
    expect(items.filter((item) => !item.includes('– verwerker,'))).toEqual([authority]);
    expectAll(purposeItem('consented_sharing'), [
      'schriftelijk toestemming',
      'U kunt uw toestemming altijd intrekken',
    ]);
    expect(sharing).toContain('medewerkers verplicht de vertrouwelijkheid van uw gegevens te respecteren');
  });

  // The statement's wording for VK-11; the behaviour is tested end to end elsewhere.
  it('processors for e-mail marketing, invoicing, reorders and direct mailing receive only name, first name, language, gender and e-mail', () => {
    const items = listItems(sharing);
    for (const processor of ['e-mailmarketing', 'facturatie', 'nabestellingen', 'direct mailing']) {
      const item = items.find((line) => line.startsWith(`Dienstverlener voor ${processor} – verwerker`));
      expect(item, processor).toBeDefined();
      expect(item).toContain(
        'Gegevens: naam en voornaam; voorkeurstaal; geslacht; e-mailadres. Onder een verwerkersovereenkomst',
      );
    }
  });

  // The statement's wording for VK-12; the behaviour is tested end to end elsewhere.
  it('no data to parties outside the EU', () => {
    expect(sharing).toContain(
      'Wij verstrekken geen persoonsgegevens aan partijen die buiten de Europese Unie (EU) gevestigd zijn.',
    );
    expect(sharing).not.toMatch(/buiten de Europese Economische Ruimte/);
  });

  // The statement's wording for VK-13; the behaviour is tested end to end elsewhere.
  it('data is deleted after at most 3 years of inactivity', () => {
    expect(retention).toContain(
      'Tot uiterlijk 3 jaar zonder activiteit; daarna verwijderen wij ze uit ons bestand',
    );
  });

  // The statement's wording for VK-14; the behaviour is tested end to end elsewhere.
  it('kept during the contract and after it for the legal period; asked for before the end, given before it is erased; then destroyed', () => {
    expectAll(retention, [
      'Zolang de overeenkomst loopt en daarna nog 3 jaar',
      'Vraagt u ons vóór het einde van deze termijn uw gegevens op (inzage of overdraagbaarheid), dan wissen wij er niets van voordat wij ze u hebben bezorgd',
      'Wettelijke bewaarplicht – boekhoudkundige bewaarplicht (art. III.88 WER; art. 60 WBTW)',
      'bewaren wij 10 jaar, te rekenen vanaf 1 januari na de datum van het document, ook als u vraagt ze te wissen',
    ]);
  });

  // The statement's wording for VK-15; the behaviour is tested end to end elsewhere.
  it('no data of children under 16 without parental consent; a report gets it deleted', () => {
    expectAll(minors, [
      'personen jonger dan 16 jaar, tenzij een ouder of voogd daarvoor toestemming gaf',
      'Wij raden ouders daarom aan betrokken te zijn bij de online activiteiten van hun kinderen.',
      'Meld het via e-mail naar info@voiceking.be; dan verwijderen wij die gegevens.',
    ]);
  });

  // The statement's wording for VK-16; the behaviour is tested end to end elsewhere.
  it('no sensitive data unless explicit consent, with examples of what counts as sensitive', () => {
    expectAll(minors, [
      'Wij verzamelen en verwerken geen gevoelige persoonsgegevens.',
      'dan vragen wij eerst uw uitdrukkelijke toestemming',
      'rijksregisternummer',
      'ras of etnische afkomst',
      'politieke opvattingen',
      'religieuze of levensbeschouwelijke overtuigingen',
      'fysieke of mentale gezondheid',
      'biometrische of genetische gegevens',
      'strafrechtelijke gegevens',
    ]);
  });

  // The statement's wording for VK-17; the behaviour is tested end to end elsewhere.
  it('customers receive the newsletter on legitimate interest; prospects, visitors and third parties only after opt-in', () => {
    expectAll(newsletter, [
      'Aan klanten en contactpersonen bij klanten kunnen wij een nieuwsbrief en andere commerciële of niet-commerciële berichten sturen op basis van ons gerechtvaardigd belang',
      'Prospects (potentiële klanten), bezoekers van onze website en andere derden worden niet als klant beschouwd',
      'nadat zij zich daarvoor zelf hebben aangemeld (opt-in)',
    ]);
  });

  // The statement's wording for VK-18; the behaviour is tested end to end elsewhere.
  it('every mailing carries an opt-out', () => {
    expect(newsletter).toContain(
      'Elke mailing bevat een link waarmee u zich zonder inloggen meteen kunt afmelden.',
    );
    expect(purposeItem('newsletter_opt_in')).toContain(
      'via de afmeldlink in elke mailing of e-mail naar info@voiceking.be',
    );
  });

  // The statement's wording for VK-19; the behaviour is tested end to end elsewhere.
  it('e-mails track opens and clicks only with consent', () => {
    const promise =
      'Onze e-mails kunnen meten of u ze opent en op welke links u klikt, maar alleen als u daarvoor toestemming gaf';
    expect(newsletter).toContain(promise);
    expect(cookies).toContain(promise);
    expect(purposeItem('email_tracking')).toContain('Rechtsgrond: uw toestemming.');
  });

  // The statement's wording for VK-20; the behaviour is tested end to end elsewhere.
  it('functional, analytical and tracking cookies; consent asked at the first visit and withdrawable', () => {
    expectAll(cookies, [
      'Onze website gebruikt functionele, analytische en tracking cookies.',
      'Andere cookies plaatsen wij alleen met uw toestemming, die wij bij uw eerste bezoek vragen.',
      'U kunt uw toestemming altijd intrekken via de cookie-instellingen op onze website.',
      'eerder opgeslagen cookies verwijderen via de instellingen van uw browser',
    ]);
    for (const cookie of policy.cookies.items) expect(cookies).toContain(`${cookie.name} (`);
  });

  // The statement's wording for VK-20b; the behaviour is tested end to end elsewhere.
  it('objecting to direct marketing is free of charge', () => {
    expect(rights).toContain(
      'u kunt zich altijd kosteloos verzetten tegen het gebruik van uw gegevens voor direct marketing; dat gebruik stopt dan onmiddellijk',
    );
  });

  // The statement's wording for VK-21; the behaviour is tested end to end elsewhere.
  it('the right of access', () => {
    expect(rights).toContain('Recht op inzage: u kunt opvragen welke gegevens wij over u hebben');
  });

  // The statement's wording for VK-22; the behaviour is tested end to end elsewhere.
  it('the right to rectification', () => {
    expect(rights).toContain(
      'Recht op verbetering: u kunt onjuiste of onvolledige gegevens laten corrigeren.',
    );
  });

  // The statement's wording for VK-23; the behaviour is tested end to end elsewhere.
  it('erasure on request, also self-service in the account settings, by e-mail or by letter', () => {
    expectAll(rights, [
      'Recht op wissing: u kunt op elk moment vragen dat wij uw gegevens verwijderen.',
      // Decision 0940: a running contract keeps the data until its last day.
      'Zolang een contract met u loopt, hebben wij uw gegevens nodig om het uit te voeren en te factureren. Vraagt u in die tijd de wissing, dan antwoorden wij binnen de maand met de datum en wissen wij ze de dag na de laatste dag van uw contracten bij ons, zonder dat u het opnieuw moet vragen; sluit u voor die dag een nieuw contract, dan schuift de datum op naar het einde daarvan en laten wij u dat weten.',
      'Uw gegevens laten verwijderen kan ook zelf, via de persoonlijke instellingen van uw account.',
      'e-mail naar info@voiceking.be',
      'een brief aan VoiceKing CVBA, Engelse Wandeling 2 K8V, 8500 Kortrijk',
    ]);
  });

  // The statement's wording for VK-24; the behaviour is tested end to end elsewhere.
  it('objection and withdrawal of consent', () => {
    expectAll(rights, [
      'Recht van bezwaar',
      'Toestemming intrekken: wat wij op basis van uw toestemming doen, stopt zodra u uw toestemming intrekt.',
    ]);
  });

  // The statement's wording for VK-25; the behaviour is tested end to end elsewhere.
  it('portability in a machine-readable file, to you or to another organisation', () => {
    expectAll(rights, [
      'gestructureerde, gangbare en machineleesbare vorm (een computerbestand)',
      'Op uw verzoek sturen wij dat bestand naar u of naar een andere organisatie die u aanwijst.',
    ]);
  });

  // The statement's wording for VK-26; the behaviour is tested end to end elsewhere.
  it('identity may be verified before acting on a request', () => {
    expectAll(rights, [
      'Wij kunnen u vragen uw identiteit aan te tonen voor wij op uw verzoek ingaan',
      'naar de contactgegevens die wij al van u hebben (nooit naar nieuwe gegevens)',
    ]);
  });

  // The statement's wording for VK-27; the behaviour is tested end to end elsewhere.
  it('an answer within 30 days', () => {
    expect(policy.rights.answerDeadlineDays).toBe(30);
    expect(rights).toContain('Wij geven gevolg aan uw verzoek binnen 30 dagen na ontvangst.');
  });

  // The statement's wording for VK-28; the behaviour is tested end to end elsewhere.
  it('the statement names the Belgian Data Protection Authority, not the Privacy Commission', () => {
    expect(listItems(complaints)).toEqual([
      'Gegevensbeschermingsautoriteit (GBA)',
      'Drukpersstraat 35, 1000 Brussel',
      'contact@apd-gba.be',
      '+32 2 274 48 00',
      'www.gegevensbeschermingsautoriteit.be',
    ]);
    expect(complaints).toContain('neem dan eerst rechtstreeks contact met ons op via info@voiceking.be');
    expect(md).not.toMatch(/privacy ?commis|privacycommission|Commissie voor de Bescherming/i);
  });

  // The statement's wording for VK-29; the behaviour is tested end to end elsewhere.
  it('the statement is versioned and dated, may change, and says where the latest version is', () => {
    expectAll(changes, [
      'raadpleeg deze verklaring daarom regelmatig',
      'De meest recente versie vindt u steeds op http://www.voiceking.be/algemene-voorwaarden-en-privacyverklaring/.',
      `Versie ${policy.statement.version}, van kracht sinds 1 december 2026.`,
      'Deze versie vervangt de privacyverklaring van 1 mei 2018.',
    ]);
  });

  // The statement's wording for G-1; the behaviour is tested end to end elsewhere.
  it('call records are kept for billing only until the bill can no longer be contested', () => {
    expect(retention).toContain(
      'Tot de factuur die ze aanrekent niet meer betwist kan worden: 12 maanden na haar vervaldag (langer zolang ze betwist wordt); nooit voordat ze gefactureerd zijn – geldt voor: aanrekenen van uw gesprekken op basis van de oproepgegevens',
    );
    // No other purpose keeps call records longer: they appear elsewhere only where nothing is kept.
    for (const line of listItems(purposes).filter((item) => item.includes('oproepgegevens (datum, uur'))) {
      expect(line).toMatch(
        /Bewaring: (tot de factuur die ze aanrekent niet meer betwist kan worden: 12 maanden na haar vervaldag \(langer zolang ze betwist wordt\); nooit voordat ze gefactureerd zijn|wij bewaren hiervoor geen eigen kopie)\./,
      );
    }
  });
});
