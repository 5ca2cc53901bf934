import { useQuery } from '@tanstack/react-query';
import { api } from '../../api/client.js';

/** One assessment as it was made; the register keeps every one (decision 0840). */
export interface IncidentAssessment {
  assessmentNo: number;
  isBreach: boolean;
  risk: 'none' | 'low' | 'high';
  riskAssessment: string;
  measures: string;
  affectedCategories: string[];
  affectedTables: string[];
  affectedCount: number;
  changeReason: string | null;
  /** The officer's text the letters and the draft say (null: assessed before decision 0895). */
  whatHappened: string | null;
  assessedAt: string;
  assessedByStaffId: number | null;
}

/** One decision on a breach as it was taken; the register keeps every one (decision 1070). */
export interface IncidentDecision {
  decisionNo: number;
  addressee: 'authority' | 'persons';
  decision: 'notified' | 'not_notified' | 'supplemented' | 'inform' | 'not_inform';
  reason: string | null;
  assessmentNo: number | null;
  lettersQueued: number;
  decidedAt: string;
  decidedByStaffId: number | null;
}

export interface Incident {
  incidentId: number;
  kind: string;
  source: string;
  description: string;
  noticedAt: string;
  reportedAt: string;
  isBreach: boolean;
  awareAt: string | null;
  deadline: string | null;
  affectedCategories: string[];
  affectedTables: string[];
  affectedCount: number;
  risk: 'none' | 'low' | 'high' | null;
  riskAssessment: string | null;
  measures: string | null;
  whatHappened: string | null;
  authorityDecision: 'pending' | 'notified' | 'not_notified';
  authorityReason: string | null;
  personsDecision: 'pending' | 'inform' | 'not_inform';
  personsReason: string | null;
  /** The latest assessment's number (0: none); a re-assessment sends it as `revises`. */
  assessmentNo: number;
  assessments: IncidentAssessment[];
  decisions: IncidentDecision[];
}

/** The incident register (the server acts under the policy's incident purpose, decision 0152). */
export function useIncidents(enabled = true) {
  return useQuery({
    queryKey: ['incidents'],
    enabled,
    queryFn: async () => (await api<{ items: Incident[] }>('GET', '/api/v1/incidents')).items,
  });
}

/** A breach whose authority notification is still open: its 72-hour clock runs. */
export const onTheClock = (incident: Incident): boolean =>
  incident.isBreach && incident.deadline !== null && incident.authorityDecision === 'pending';

/** Whole hours from now to the deadline (negative when past). */
export function hoursLeft(deadline: string, now = Date.now()): number {
  return Math.floor((Date.parse(deadline) - now) / 3_600_000);
}

export interface HoldCase {
  caseId: number;
  name: string;
  endsOn: string;
  placedAt: string;
  releasedAt: string | null;
  active: boolean;
  people: number;
}

export function useCases(enabled = true) {
  return useQuery({
    queryKey: ['retention-cases'],
    enabled,
    queryFn: async () => (await api<{ items: HoldCase[] }>('GET', '/api/v1/retention/cases')).items,
  });
}
