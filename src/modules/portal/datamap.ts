import type { TableDataMap } from '../../kernel/datamap/datamap.js';

export const portalDataMap: TableDataMap[] = [
  {
    table: 'portal_themes',
    module: 'portal',
    personal: {},
    notPersonal: {
      tenant_id: 'tenant key',
      primary_colour: "the portal's main colour (#rrggbb)",
      accent_colour: "the portal's accent colour (#rrggbb)",
      updated_at: 'bookkeeping',
    },
  },
];
