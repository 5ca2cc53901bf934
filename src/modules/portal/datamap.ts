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
  {
    table: 'portal_logos',
    module: 'portal',
    personal: {},
    notPersonal: {
      tenant_id: 'tenant key',
      content_type: 'image type sniffed from the bytes (PNG or JPEG)',
      content: "the provider's logo image",
      width: 'image width in pixels',
      height: 'image height in pixels',
      sha256: 'content hash (ETag, cache-busting version)',
      updated_at: 'bookkeeping',
    },
  },
];
