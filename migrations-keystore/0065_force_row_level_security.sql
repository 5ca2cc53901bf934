-- Tenant isolation fails closed (issue 10, docs/decisions/0065): the key store's tenant policies
-- bind the tables' owner too, not only kluis_app.
ALTER TABLE tenant_keks FORCE ROW LEVEL SECURITY;
ALTER TABLE data_keys FORCE ROW LEVEL SECURITY;
