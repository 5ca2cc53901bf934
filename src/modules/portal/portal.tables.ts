export interface PortalThemesTable {
  tenant_id: number;
  primary_colour: string;
  accent_colour: string;
  updated_at: Date;
}

export interface PortalTables {
  portal_themes: PortalThemesTable;
}
