import type { ColumnType } from 'kysely';

/** The first run's plan: one row per tenant it sets up (migrations/0072_first_run.sql). */
export interface FirstRunPlanTable {
  slug: ColumnType<string, string, never>;
  policy_file: ColumnType<string, string, never>;
  planned_at: ColumnType<Date, Date | undefined, never>;
  demo_done_at: Date | null;
  completed_at: Date | null;
}

export interface FirstRunTables {
  first_run_plan: FirstRunPlanTable;
}
