import type { ColumnType } from 'kysely';

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
  source: ColumnType<string, string | undefined, string>;
  created_at: ColumnType<Date, Date | undefined, never>;
  updated_at: ColumnType<Date, Date | undefined, Date>;
}

export interface PartiesTables {
  people: PeopleTable;
}
