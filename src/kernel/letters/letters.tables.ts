import type { ColumnType } from 'kysely';

export type LetterState = 'pending' | 'sent' | 'dropped' | 'failed' | 'shredded';

/** A letter in the outbox, sealed under its own key in the key store (migrations/0190). */
export interface SealedLettersTable {
  tenant_id: ColumnType<number, number, never>;
  letter_id: ColumnType<string, string, never>;
  purpose: ColumnType<string, string, never>;
  kind: ColumnType<string, string, never>;
  message_id: ColumnType<string, string, never>;
  /** Recipient, subject and text, AES-256-GCM under the letter's key; NULL once done. */
  sealed: Buffer | null;
  state: ColumnType<LetterState, LetterState | undefined, LetterState>;
  attempts: ColumnType<number, number | undefined, number>;
  next_attempt_at: Date;
  created_at: ColumnType<Date, Date, never>;
  done_at: Date | null;
  key_destroyed_at: Date | null;
}

export interface LettersTables {
  sealed_letters: SealedLettersTable;
}
