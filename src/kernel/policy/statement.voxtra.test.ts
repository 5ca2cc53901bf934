// The generated Dutch statement for Voxtra must carry every fact and promise of the seed
// statement (../shared/seeds/003_…): one test per REQUIREMENTS.md row that concerns it.
import { ALL_PROMISES } from './promises.js';
import { describe, expect, it } from 'vitest';
import { generateStatement } from './statement.generator.js';
import { capitalize, listItems, loadSeedPolicy, section } from './statement.test-helpers.js';

const policy = loadSeedPolicy('voxtra');
const md = generateStatement(policy, { lang: 'nl', format: 'md', enforced: ALL_PROMISES });

const controller = section(md, 'Wie is verantwoordelijk');
const data = section(md, 'Welke persoonsgegevens');
const purposes = section(md, 'Waarvoor en op welke rechtsgrond');
const newsletter = section(md, 'Nieuwsbrief');
const security = section(md, 'Hoe beveiligen');
const retention = section(md, 'Hoe lang bewaren');
const sharing = section(md, 'Met wie delen');
const cookies = section(md, 'Cookies');
const rights = section(md, 'Uw rechten');
const complaints = section(md, 'Klachten');

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

const CDR_LABEL =
  'inkomende en uitgaande oproepen op die nummers (datum, uur, oproeper, bestemming, duurtijd)';
const DOSSIER_LABELS = [
  'technisch dossier – technische informatie zoals het merk en type van uw printer',
  'technisch dossier – paswoorden zoals het paswoord dat bij een e-mailadres hoort',
];

describe('Voxtra: the generated Dutch statement holds every fact of the seed once every promise is kept by a module', () => {
  // The statement's wording for VX-1; the behaviour is tested end to end elsewhere.
  it('the Dutch statement names the controller, address, enterprise number and e-mail', () => {
    expectAll(controller, [
      'Naam: Voxtra bvba',
      'Adres: Antwerpse Heirweg 40A, 9900 Eeklo',
      'Ondernemingsnummer: BE0649.503.981',
      'E-mail: administratie@voxtra.be',
      'Vragen over privacy: administratie@voxtra.be',
    ]);
    // The seed gives no phone number, and none is invented.
    expect(controller).not.toContain('Telefoon:');
  });

  // The statement's wording for VX-2; the behaviour is tested end to end elsewhere.
  it('purposes rest on consent, contract, legal obligation and legitimate interest; consent can be withdrawn', () => {
    expect(purposes).toContain(
      'Wij verwerken persoonsgegevens op basis van uw toestemming, de uitvoering van een overeenkomst met u (of stappen op uw verzoek vóór een overeenkomst), een wettelijke verplichting en ons gerechtvaardigd belang.',
    );
    expect(purposeItem('news_opt_in')).toContain(
      'U kunt uw toestemming altijd intrekken via de afmeldlink in elke mailing of e-mail naar administratie@voxtra.be.',
    );
    expect(rights).toContain('Toestemming intrekken');
  });

  // The statement's wording for VX-3; the behaviour is tested end to end elsewhere.
  it('customer and order management: administration, quotes, orders and deliveries, accounting, invoicing, solvency, personalised information', () => {
    expect(purposeItem('customer_administration')).toContain(
      'Rechtsgrond: de uitvoering van een overeenkomst',
    );
    expect(purposeItem('quotes')).toMatch(/^Offertebeheer\./);
    expect(purposeItem('orders_deliveries')).toMatch(/^Opvolgen van bestellingen en leveringen\./);
    expect(purposeItem('accounting')).toContain('Rechtsgrond: een wettelijke verplichting.');
    expect(purposeItem('invoicing')).toMatch(/^Facturatie\./);
    expectAll(purposeItem('solvency'), [
      'Opvolgen van de solvabiliteit.',
      'solvabiliteitsgegevens (externe kredietscore)',
    ]);
    expect(purposeItem('personalised_info')).toMatch(
      /^Occasioneel verzenden van gepersonaliseerde informatie/,
    );
    expect(data).toContain(
      'Wij krijgen solvabiliteitsgegevens (externe kredietscore) van externe kredietinformatiebureaus.',
    );
    expectAll(data, [
      'naam',
      'adres',
      'e-mailadressen',
      'telefoonnummers',
      'informatie over producten en diensten die u bij Voxtra bvba hebt gekocht',
      'informatie in e-mails die u ons hebt gestuurd',
    ]);
  });

  // The statement's wording for VX-4; the behaviour is tested end to end elsewhere.
  it('the technical dossier (printer brand/type, e-mail passwords) is secured, for internal technical staff only, and can be consulted or removed', () => {
    expectAll(data, DOSSIER_LABELS);
    expect(security).toContain(
      'alleen de interne (technische) medewerkers van Voxtra hebben toegang tot het technisch dossier',
    );
    expect(security).toContain('paswoorden in het technisch dossier worden versleuteld bewaard');
    expect(policy.purposes.technical_dossier?.roles).toEqual(['technician']);
    expect(purposeItem('technical_dossier')).toContain('U kunt hiertegen bezwaar maken.');
    expect(rights).toContain(`Deze rechten gelden ook voor ${DOSSIER_LABELS.join('; ')}.`);
  });

  // The statement's wording for VX-5; the behaviour is tested end to end elsewhere.
  it('phone numbers and call records (date, time, caller, destination, duration) are used only for billing', () => {
    expectAll(data, ['de telefoonnummer(s) waarover u beschikt', CDR_LABEL]);
    const keeping = Object.entries(policy.purposes)
      .filter(([, p]) => p.categories.includes('kluis.telephony.call_record'))
      .filter(([, p]) => policy.retentionRules[p.retention]?.kind !== 'inherited')
      .map(([key]) => key);
    expect(keeping).toEqual(['call_billing']);
    expect(purposeItem('call_billing')).toMatch(
      /^Facturatie van telefoniediensten op basis van de oproepgegevens\./,
    );
    expect(policy.purposes.call_billing?.roles).toEqual(['billing']);
  });

  // The statement's wording for VX-6; the behaviour is tested end to end elsewhere.
  it('data goes to a supplier or transport firm as intermediary, to group companies in the EEA, to authorities and to a buyer of the business', () => {
    const items = listItems(sharing);
    const find = (start: string): string => items.find((item) => item.startsWith(start)) ?? '';
    expect(find("Telecomfirma's bij wie wij in uw naam een aansluiting regelen")).toContain(
      'Wanneer wij in uw naam een nieuwe aansluiting regelen.',
    );
    expect(find("Transportfirma's")).toContain('Gegevens: naam; adres.');
    expect(
      find(
        'Vennootschappen binnen de Europese Economische Ruimte die rechtstreeks of onrechtstreeks met Voxtra bvba verbonden zijn',
      ),
    ).toContain('verbonden vennootschap, binnen de Europese Economische Ruimte');
    expect(find('Partners van Voxtra bvba zoals leveranciers en onderaannemers')).toContain(
      'verwerkersovereenkomst',
    );
    expect(find('Overheden en gerechtelijke instanties')).toContain(
      'Wanneer wet- en regelgeving en/of rechtspraak ons daartoe verplicht.',
    );
    expect(find('De koper van (een deel van) onze organisatie')).toContain('verder te zetten');
    expect(sharing).toContain('passende technische en organisatorische maatregelen');
    expect(sharing).toContain('buiten de Europese Economische Ruimte (EER) gevestigd zijn');
    // The technical dossier is never passed on.
    for (const label of DOSSIER_LABELS) expect(sharing).not.toContain(label);
  });

  // The statement's wording for VX-7; the behaviour is tested end to end elsewhere.
  it('on written termination the technical dossier is deleted immediately and irrevocably', () => {
    const line = listItems(retention).find((item) => item.includes('bijhouden van een technisch dossier'));
    expect(line).toMatch(
      /^Zolang de samenwerking loopt; zodra u ons schriftelijk laat weten dat u de samenwerking stopzet, verwijderen wij ze met onmiddellijke ingang en onherroepelijk/,
    );
    // No legal hold keeps any part of the dossier.
    for (const hold of Object.values(policy.legalHolds)) {
      expect(hold.categories.filter((c) => c.startsWith('kluis.dossier.'))).toEqual([]);
    }
  });

  // The statement's wording for VX-8; the behaviour is tested end to end elsewhere.
  it('customer-management data is kept as long as accounting law requires', () => {
    expectAll(retention, [
      '10 jaar, te rekenen vanaf 1 januari na de datum van het document – geldt voor: boekhouding',
      'Wettelijke bewaarplicht – boekhoudkundige bewaarplicht (art. III.88 WER; art. 60 WBTW)',
    ]);
  });

  // The statement's wording for VX-9; the behaviour is tested end to end elsewhere.
  it('no marketing intended, but customers may receive offers and news, with an opt-out', () => {
    expect(purposeItem('personalised_info')).toContain('aanbiedingen en nieuwtjes over Voxtra bvba');
    expect(newsletter).toContain('u kunt zich altijd afmelden (opt-out)');
    expect(newsletter).toContain('Prospects die een offerte vragen worden niet als klant beschouwd');
  });

  // The statement's wording for VX-10; the behaviour is tested end to end elsewhere.
  it('objecting to direct marketing is free of charge', () => {
    expect(purposeItem('personalised_info')).toContain('U kunt zich hier altijd kosteloos tegen verzetten.');
    expect(rights).toContain(
      'u kunt zich altijd kosteloos verzetten tegen het gebruik van uw gegevens voor direct marketing',
    );
  });

  // The statement's wording for VX-11; the behaviour is tested end to end elsewhere.
  it('the right of access, including the technical dossier', () => {
    expect(rights).toContain('Recht op inzage');
    expect(rights).toContain('Deze rechten gelden ook voor technisch dossier');
  });

  // The statement's wording for VX-12; the behaviour is tested end to end elsewhere.
  it('the right to rectification', () => {
    expect(rights).toContain(
      'Recht op verbetering: u kunt onjuiste of onvolledige gegevens laten corrigeren.',
    );
  });

  // The statement's wording for VX-13; the behaviour is tested end to end elsewhere.
  it('the right to erasure', () => {
    expect(rights).toContain('Recht op wissing');
  });

  // The statement's wording for VX-14; the behaviour is tested end to end elsewhere.
  it('the right to restriction', () => {
    expect(rights).toContain('Recht op beperking');
  });

  // The statement's wording for VX-15; the behaviour is tested end to end elsewhere.
  it('the right to object', () => {
    expect(rights).toContain('Recht van bezwaar');
  });

  // The statement's wording for VX-16; the behaviour is tested end to end elsewhere.
  it('portability in a structured, commonly used, machine-readable form, also to another company; requests by e-mail', () => {
    expectAll(rights, [
      'gestructureerde, gangbare en machineleesbare vorm',
      'naar een andere organisatie die u aanwijst',
      'U oefent uw rechten uit via e-mail naar administratie@voxtra.be.',
    ]);
  });

  // The statement's wording for VX-17; the behaviour is tested end to end elsewhere.
  it('complaints go to the Belgian Data Protection Authority, not the former Privacy Commission', () => {
    expectAll(complaints, [
      'Gegevensbeschermingsautoriteit (GBA)',
      'Drukpersstraat 35, 1000 Brussel',
      'contact@apd-gba.be',
      'www.gegevensbeschermingsautoriteit.be',
    ]);
    expect(md).not.toMatch(/Commissie voor de Bescherming|privacycommission/i);
  });

  // The statement's wording for G-1; the behaviour is tested end to end elsewhere.
  it('call records are kept only until the bill can no longer be contested', () => {
    expect(retention).toContain(
      'Tot de factuur die ze aanrekent niet meer betwist kan worden: 12 maanden na haar vervaldag (langer zolang ze betwist wordt); nooit voordat ze gefactureerd zijn – geldt voor: facturatie van telefoniediensten op basis van de oproepgegevens',
    );
  });

  it('the website data and cookies are referred to the hosting platform, as in the seed', () => {
    expect(cookies).toContain(
      'verwijzen wij naar het privacybeleid van ons hostingplatform: https://nl.wix.com/about/privacy',
    );
  });
});
