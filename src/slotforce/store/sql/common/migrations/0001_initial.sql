-- Schema 1: raw deliveries, the items queued from them, traces and the last error per event type.
-- {id}, {real}, {blob}, {bigint}: each dialect's types (store/migrations.py).
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS deliveries (
    id {id},
    source TEXT NOT NULL,
    body_sha256 TEXT NOT NULL,
    body {blob} NOT NULL,
    content_type TEXT,
    note TEXT,
    received_at {real} NOT NULL,
    repeats INTEGER NOT NULL DEFAULT 0,
    last_received_at {real} NOT NULL,
    UNIQUE (source, body_sha256)
);
CREATE TABLE IF NOT EXISTS items (
    id {id},
    delivery_id {bigint} NOT NULL REFERENCES deliveries(id),
    dedupe_key TEXT NOT NULL UNIQUE,
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
    available_at {real} NOT NULL,
    lease_id TEXT,
    lease_owner TEXT,
    lease_expires_at {real},
    skip_create_wait INTEGER NOT NULL DEFAULT 0,
    last_error TEXT,
    last_error_code TEXT,
    outcome TEXT,
    created_at {real} NOT NULL,
    updated_at {real} NOT NULL
);
CREATE INDEX IF NOT EXISTS items_by_state ON items (state, available_at);
CREATE INDEX IF NOT EXISTS items_unfinished ON items (id) WHERE state IN ('pending', 'leased');
CREATE INDEX IF NOT EXISTS items_by_uid ON items (booking_uid, state);
CREATE INDEX IF NOT EXISTS items_by_previous_uid ON items (previous_booking_uid, state);
CREATE INDEX IF NOT EXISTS items_by_update ON items (updated_at);
CREATE TABLE IF NOT EXISTS traces (
    id {id},
    booking_uid TEXT NOT NULL,
    action_key TEXT,
    item_id {bigint},
    at {real} NOT NULL,
    steps TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS traces_by_uid ON traces (booking_uid, id);
CREATE TABLE IF NOT EXISTS sync_errors (
    event_type TEXT PRIMARY KEY,
    code TEXT,
    message TEXT NOT NULL,
    details TEXT,
    item_id {bigint},
    at {real} NOT NULL
);
