import type { ColumnType, Generated } from 'kysely';

export interface PeopleTable {
  tenant_id: number;
  subject_id: number;
  family_name: string | null;
  given_name: string | null;
  gender: 'female' | 'male' | 'x' | null;
  preferred_language: 'nl' | 'fr' | 'en' | 'de' | null;
  email_enc: Buffer | null;
  email_bidx: Buffer | null;
  phone_enc: Buffer | null;
  phone_bidx: Buffer | null;
  birth_date_enc: Buffer | null;
  address_enc: Buffer | null;
  job_title: string | null;
  job_function: string | null;
  decision_authority: boolean | null;
  notes_enc: Buffer | null;
  organisation_id: number | null;
  source: ColumnType<string, string | undefined, string>;
  created_at: ColumnType<Date, Date | undefined, never>;
  updated_at: ColumnType<Date, Date | undefined, Date>;
}

export interface OrganisationsTable {
  tenant_id: number;
  organisation_id: Generated<number>;
  name: string;
  enterprise_number: string | null;
  country: ColumnType<string, string | undefined, string>;
  street: string | null;
  postal_code: string | null;
  city: string | null;
  billing_street: string | null;
  billing_postal_code: string | null;
  billing_city: string | null;
  billing_country: string | null;
  vat_registered: ColumnType<boolean, boolean | undefined, boolean>;
  buyer_reference: string | null;
  vat_number: string | null;
  peppol_scheme: string | null;
  peppol_id: string | null;
  created_at: ColumnType<Date, Date | undefined, never>;
}

export interface ParentalConsentsTable {
  tenant_id: number;
  subject_id: number;
  relation: 'parent' | 'guardian';
  verification_method: string;
  evidence_reference: string | null;
  recorded_by_staff_id: number | null;
  recorded_at: Date;
}

export interface PartiesTables {
  people: PeopleTable;
  organisations: OrganisationsTable;
  parental_consents: ParentalConsentsTable;
}
