export {
  buildAccessReport,
  describeAccessReport,
  writeAccessReportJson,
  writeAccessPackage,
  type TextSink,
  readSubjectRows,
  renderRow,
  type AccessReportOptions,
} from './access-report.service.js';
export {
  AccessReportSchema,
  renderAccessReportJsonSchema,
  type AccessReport,
} from './access-report.schema.js';
export { consultationLine, renderAccessReportHtml } from './access-report.html.js';
export { columnWords, valueWords } from './person-words.js';
export { EXPORT_DEFLATE_LEVEL, PORTABILITY_FORMAT, streamPortabilityZip } from './portability.js';
export {
  buildAccessOverview,
  readAccessTablePage,
  type AccessOverview,
  type AccessTablePage,
  type AccessTableSummary,
} from './access-report.pages.js';
