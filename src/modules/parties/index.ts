export {
  createPerson,
  getPerson,
  findPeopleByContact,
  normaliseEmail,
  PERSON_CATEGORIES,
} from './people.service.js';
export type { Person, CreatePersonInput, UseCaseContext } from './people.service.js';
export type { PartiesTables } from './people.tables.js';
export { partiesDataMap } from './datamap.js';
