export {
  createPerson,
  findPersonOfTypeAt,
  rectifyPerson,
  rectifyPersonWithin,
  rectificationSchema,
  checkRectification,
  getPerson,
  findPeopleByContact,
  listPeople,
  normaliseEmail,
  ageOn,
  assertNoForbiddenData,
  PERSON_CATEGORIES,
  NON_REGISTERING_ROLES,
} from './people.service.js';
export type {
  Rectification,
  Person,
  CreatePersonInput,
  UseCaseContext,
  PeoplePage,
} from './people.service.js';
export {
  createOrganisation,
  getOrganisation,
  listOrganisations,
  updateOrganisation,
  readOrganisationsForInvoices,
  ORGANISATION_ROLES,
  type Organisation,
  type InvoicedOrganisation,
} from './organisation.service.js';
export { recordParentalConsent, reportMinorWithoutConsent } from './minors.service.js';
export { erasePerson } from './erase.service.js';
export { registerPartiesRoutes } from './parties.routes.js';
export type { PartiesTables } from './people.tables.js';
export { partiesDataMap } from './datamap.js';
/**
 * Bulk read of people inside another module's transaction, under a grant that module obtained
 * (e.g. the invoice run reads the party data of 5,000 customers under one gate decision).
 */
export { selectPeople as readPeopleUnderGrant } from './people.repository.js';
export { createPeopleInBulk, createPeopleInBulkWithin, type BulkPerson } from './people.bulk.js';
export { PERSON_COLUMN_CATEGORIES, hasPersonRecord } from './people.repository.js';
