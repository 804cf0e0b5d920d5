-- Schema 4: many orgs in one outbox (issue 13.4). Deliveries, items, traces and last errors carry
-- their org; what was unique per outbox is unique per org (the same booking uid, action key or
-- delivery body in two orgs is two of them). Rows written before belong to the implicit org 'default'.
-- SQLite cannot change a table's UNIQUE constraints in place: deliveries, items and sync_errors are
-- rebuilt (the 12-step way; SqliteStorage migrates with foreign keys off, then turns them on).
CREATE TABLE deliveries_v4 (
    id INTEGER PRIMARY KEY,
    org TEXT NOT NULL DEFAULT 'default',
    source TEXT NOT NULL,
    body_sha256 TEXT NOT NULL,
    body BLOB NOT NULL,
    content_type TEXT,
    note TEXT,
    received_at REAL NOT NULL,
    repeats INTEGER NOT NULL DEFAULT 0,
    last_received_at REAL NOT NULL,
    UNIQUE (org, source, body_sha256)
);
INSERT INTO deliveries_v4 (id, source, body_sha256, body, content_type, note, received_at, repeats, last_received_at)
SELECT id, source, body_sha256, body, content_type, note, received_at, repeats, last_received_at FROM deliveries;
CREATE TABLE items_v4 (
    id INTEGER PRIMARY KEY,
    org TEXT NOT NULL DEFAULT 'default',
    delivery_id INTEGER NOT NULL REFERENCES deliveries(id),
    dedupe_key TEXT NOT NULL,
    source TEXT NOT NULL,
    booking_uid TEXT NOT NULL,
    previous_booking_uid TEXT,
    requires_uid TEXT,
    establishes INTEGER NOT NULL DEFAULT 0,
    action TEXT NOT NULL,
    event_type TEXT,
    change TEXT NOT NULL,
    state TEXT NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    expired_leases INTEGER NOT NULL DEFAULT 0,
    available_at REAL NOT NULL,
    lease_id TEXT,
    lease_owner TEXT,
    lease_expires_at REAL,
    skip_create_wait INTEGER NOT NULL DEFAULT 0,
    last_error TEXT,
    last_error_code TEXT,
    outcome TEXT,
    created_at REAL NOT NULL,
    updated_at REAL NOT NULL,
    repeat_order INTEGER,
    repeat_scope TEXT,
    UNIQUE (org, dedupe_key)
);
INSERT INTO items_v4 (id, delivery_id, dedupe_key, source, booking_uid, previous_booking_uid, requires_uid, establishes,
                      action, event_type, change, state, attempts, expired_leases, available_at, lease_id, lease_owner,
                      lease_expires_at, skip_create_wait, last_error, last_error_code, outcome, created_at, updated_at,
                      repeat_order, repeat_scope)
SELECT id, delivery_id, dedupe_key, source, booking_uid, previous_booking_uid, requires_uid, establishes,
       action, event_type, change, state, attempts, expired_leases, available_at, lease_id, lease_owner,
       lease_expires_at, skip_create_wait, last_error, last_error_code, outcome, created_at, updated_at,
       repeat_order, repeat_scope FROM items;
CREATE TABLE sync_errors_v4 (
    org TEXT NOT NULL DEFAULT 'default',
    event_type TEXT NOT NULL,
    code TEXT,
    message TEXT NOT NULL,
    details TEXT,
    item_id INTEGER,
    at REAL NOT NULL,
    PRIMARY KEY (org, event_type)
);
INSERT INTO sync_errors_v4 (event_type, code, message, details, item_id, at)
SELECT event_type, code, message, details, item_id, at FROM sync_errors;
DROP TABLE items;
DROP TABLE deliveries;
DROP TABLE sync_errors;
ALTER TABLE deliveries_v4 RENAME TO deliveries;
ALTER TABLE items_v4 RENAME TO items;
ALTER TABLE sync_errors_v4 RENAME TO sync_errors;
CREATE INDEX items_by_state ON items (state, available_at);
CREATE INDEX items_unfinished ON items (id) WHERE state IN ('pending', 'leased');
CREATE INDEX items_unfinished_by_org ON items (org, id) WHERE state IN ('pending', 'leased');
CREATE INDEX items_by_uid ON items (booking_uid, state);
CREATE INDEX items_by_previous_uid ON items (previous_booking_uid, state);
CREATE INDEX items_by_update ON items (updated_at);
ALTER TABLE traces ADD COLUMN org TEXT NOT NULL DEFAULT 'default';
