-- Whether webhooks may reach private, loopback or link-local addresses is now the operator's choice
-- (WEBHOOK_ALLOW_PRIVATE), not an organization's: a tenant's administrator could otherwise make the
-- server call into the network it runs in. The per-organization switch, the table's only setting, goes.
DROP TABLE alert_settings;
