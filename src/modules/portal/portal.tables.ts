export interface PortalThemesTable {
  tenant_id: number;
  primary_colour: string;
  accent_colour: string;
  updated_at: Date;
}

export interface PortalLogosTable {
  tenant_id: number;
  content_type: 'image/png' | 'image/jpeg';
  content: Buffer;
  width: number;
  height: number;
  sha256: string;
  updated_at: Date;
}

export interface PortalTables {
  portal_themes: PortalThemesTable;
  portal_logos: PortalLogosTable;
}
