export { purposeFor, orderCategoryOf, workPurposes, holderTypesFor } from './access.js';
export type { ContractWork, HolderWork } from './access.js';
export { CONTRACT_CATEGORIES, contractsDataMap } from './datamap.js';
export {
  createProduct,
  changeProduct,
  getProduct,
  listProducts,
  CATALOGUE_ROLES,
} from './product.service.js';
export type { Product, CatalogueContext, CreateProductInput, Page, PageOptions } from './product.service.js';
export { createQuote, getQuote, listQuotes, changeQuoteStatus } from './quote.service.js';
export type { Quote, QuoteStatus, CreateQuoteInput } from './quote.service.js';
export { createOrder, getOrder, listOrders, changeOrderStatus } from './order.service.js';
export type { Order, Address, CreateOrderInput } from './order.service.js';
export {
  createContract,
  getContract,
  listContracts,
  terminateContract,
  getCustomerStatus,
  deriveCustomerStatus,
  listRelationsRunOutOn,
  listEndedRelationsAmong,
} from './contract.service.js';
export type {
  Contract,
  ContractStatus,
  CustomerStatus,
  CustomerStatusValue,
  Termination,
  CreateContractInput,
  TerminateContractInput,
} from './contract.service.js';
export { listPendingEvents, markEventProcessed, DomainEventSubscribers } from './domain-events.js';
export type {
  DomainEvent,
  DomainEventType,
  DomainEventPayloads,
  DomainEventHandler,
  ContractTerminatedPayload,
} from './domain-events.js';
export { registerContractRoutes } from './contracts.routes.js';
export type { ContractsTables } from './contracts.tables.js';
export { WRITTEN_CHANNELS } from './contracts.tables.js';
export { readContractClocks, type ContractClock } from './retention-clocks.js';
export {
  VAT_CATEGORIES,
  categoryOfRate,
  resolveVatTreatment,
  DEFAULT_EXEMPTION_CODE,
  EXEMPTION_TEXTS,
  type VatCategory,
  type VatTreatment,
} from './vat.js';
export {
  selectContractHolder,
  selectContractProductDays,
  selectRelationSpan,
  type ContractProductDays,
  type RelationSpan,
} from './contract.repository.js';
export { selectProduct } from './product.repository.js';
export { CONTRACTS, CONTRACT_LINES } from './contract-relations.js';
