-- Schema 4: many orgs in one outbox (issue 13.4). Deliveries, items, traces and last errors carry
-- their org; what was unique per outbox is unique per org (the same booking uid, action key or
-- delivery body in two orgs is two of them). Rows written before belong to the implicit org 'default'.
ALTER TABLE deliveries ADD COLUMN org TEXT NOT NULL DEFAULT 'default';
ALTER TABLE deliveries DROP CONSTRAINT deliveries_source_body_sha256_key;
ALTER TABLE deliveries ADD CONSTRAINT deliveries_org_source_body_sha256_key UNIQUE (org, source, body_sha256);
ALTER TABLE items ADD COLUMN org TEXT NOT NULL DEFAULT 'default';
ALTER TABLE items DROP CONSTRAINT items_dedupe_key_key;
ALTER TABLE items ADD CONSTRAINT items_org_dedupe_key_key UNIQUE (org, dedupe_key);
CREATE INDEX items_unfinished_by_org ON items (org, id) WHERE state IN ('pending', 'leased');
ALTER TABLE traces ADD COLUMN org TEXT NOT NULL DEFAULT 'default';
ALTER TABLE sync_errors ADD COLUMN org TEXT NOT NULL DEFAULT 'default';
ALTER TABLE sync_errors DROP CONSTRAINT sync_errors_pkey;
ALTER TABLE sync_errors ADD PRIMARY KEY (org, event_type);
