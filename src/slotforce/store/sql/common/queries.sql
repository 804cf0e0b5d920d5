-- The statements both backends run as they are, by name (store/queries.py loads them; `:name` parameters).
-- A backend's own queries.sql holds what its dialect needs differently, and overrides these.
-- Every rule (order, supersede, parking, expiry, backoff) is in store/policy.py: these only read and write.

-- name: schema_version
SELECT value FROM meta WHERE key = 'schema_version';

-- name: set_schema_version
INSERT INTO meta (key, value) VALUES ('schema_version', :version)
ON CONFLICT (key) DO UPDATE SET value = excluded.value;

-- name: find_delivery
SELECT id FROM deliveries WHERE org = :org AND source = :source AND body_sha256 = :digest;

-- name: repeat_delivery
UPDATE deliveries SET repeats = repeats + 1, last_received_at = :now WHERE id = :id;

-- name: insert_delivery
INSERT INTO deliveries (org, source, body_sha256, body, content_type, note, received_at, last_received_at)
VALUES (:org, :source, :digest, :body, :content_type, :note, :now, :now)
ON CONFLICT (org, source, body_sha256) DO NOTHING RETURNING id;

-- name: find_item_by_key
SELECT id FROM items WHERE org = :org AND dedupe_key = :dedupe_key;

-- name: insert_item
INSERT INTO items (org, delivery_id, dedupe_key, source, booking_uid, previous_booking_uid, requires_uid, establishes,
                   action, event_type, change, state, available_at, created_at, updated_at, repeat_order, repeat_scope)
VALUES (:org, :delivery_id, :dedupe_key, :source, :booking_uid, :previous_booking_uid, :requires_uid, :establishes,
        :action, :event_type, :change, 'pending', :now, :now, :now, :repeat_order, :repeat_scope)
ON CONFLICT (org, dedupe_key) DO NOTHING RETURNING id;

-- name: inherit_event_type
-- No-show and meeting-ended webhooks do not say the event type; the booking's create did.
UPDATE items SET event_type = (SELECT earlier.event_type FROM items AS earlier
    WHERE earlier.org = items.org AND earlier.booking_uid IN (items.booking_uid, items.previous_booking_uid)
      AND earlier.event_type IS NOT NULL AND earlier.id != items.id ORDER BY earlier.id DESC LIMIT 1)
WHERE id = :id AND event_type IS NULL;

-- name: held_at_expiry
-- How many unfinished items the lease's worker held when it ended (policy.expired_lease blames only
-- one held alone). Requeued items keep the lease id until leased again, so the count stays put
-- while another worker requeues the ones it holds locked (PostgreSQL's lease_rows skips those).
SELECT COUNT(*) AS held FROM items WHERE lease_id = :lease_id AND state IN ('leased', 'pending');

-- name: requeue_expired
-- Due again at once with the counts policy.expired_lease gives; the lease id stays (see held_at_expiry).
UPDATE items SET state = 'pending', available_at = :now, attempts = :attempts, expired_leases = :expired_leases,
       lease_owner = NULL, lease_expires_at = NULL, updated_at = :now
 WHERE id = :id AND state = 'leased' AND lease_id = :lease_id;

-- name: get_item
SELECT * FROM items WHERE id = :id;

-- name: set_done
UPDATE items SET state = 'done', outcome = :outcome, last_error = NULL, last_error_code = NULL,
       lease_id = NULL, lease_owner = NULL, lease_expires_at = NULL, updated_at = :now WHERE id = :id;

-- name: set_stopped
-- failed or parked, with the reason.
UPDATE items SET state = :state, last_error = :error, last_error_code = :code, lease_id = NULL, lease_owner = NULL,
       lease_expires_at = NULL, updated_at = :now WHERE id = :id;

-- name: note_sync_error
INSERT INTO sync_errors (org, event_type, code, message, details, item_id, at)
VALUES (:org, :event_type, :code, :message, :details, :item_id, :now)
ON CONFLICT (org, event_type) DO UPDATE SET code = excluded.code, message = excluded.message,
    details = excluded.details, item_id = excluded.item_id, at = excluded.at;

-- name: insert_trace
INSERT INTO traces (org, booking_uid, action_key, item_id, at, steps)
VALUES (:org, :booking_uid, :action_key, :item_id, :now, :steps);

-- name: extend_lease
UPDATE items SET lease_expires_at = :expires WHERE state = 'leased' AND lease_id = :lease_id;

-- name: hold_queue
-- One org's queue (its API budget is spent); :org NULL: every org's.
UPDATE items SET available_at = :until, last_error = :error, last_error_code = :code, updated_at = :now
 WHERE state = 'pending' AND available_at < :until AND (CAST(:org AS TEXT) IS NULL OR org = CAST(:org AS TEXT));

-- name: held_leases
SELECT lease_id, lease_owner, COUNT(*) AS items, MAX(lease_expires_at) AS expires_at FROM items
 WHERE state = 'leased' GROUP BY lease_id, lease_owner ORDER BY expires_at;

-- name: budget_wait
SELECT COUNT(*) AS items, MIN(available_at) AS next_try_at FROM items
 WHERE state = 'pending' AND last_error_code = :code AND available_at > :now
   AND (CAST(:org AS TEXT) IS NULL OR org = CAST(:org AS TEXT));

-- name: replay_item
-- The operator decided it should go now: it no longer waits for a create.
UPDATE items SET state = 'pending', available_at = :now, attempts = 0, expired_leases = 0, skip_create_wait = 1,
       lease_id = NULL, lease_owner = NULL, lease_expires_at = NULL, updated_at = :now WHERE id = :id;

-- name: count_deliveries
SELECT COUNT(*) AS deliveries, COALESCE(SUM(repeats), 0) AS repeated FROM deliveries
 WHERE CAST(:org AS TEXT) IS NULL OR org = CAST(:org AS TEXT);

-- name: delivery_body
SELECT body FROM deliveries WHERE id = :id;

-- name: prune_items
DELETE FROM items WHERE state = 'done' AND updated_at < :cutoff;

-- name: prune_traces
DELETE FROM traces WHERE at < :cutoff AND item_id NOT IN (SELECT id FROM items);

-- name: prune_deliveries
-- A delivery goes once none of its changes is left (and so no raw body is needed to debug one).
DELETE FROM deliveries WHERE last_received_at < :cutoff
   AND NOT EXISTS (SELECT 1 FROM items WHERE items.delivery_id = deliveries.id);

-- name: traces
SELECT org, booking_uid, item_id, at, steps, action_key FROM traces
 WHERE booking_uid = :uid AND (CAST(:org AS TEXT) IS NULL OR org = CAST(:org AS TEXT)) ORDER BY id;

-- name: last_sync_errors
SELECT org, event_type, code, message, at, item_id, details FROM sync_errors
 WHERE CAST(:org AS TEXT) IS NULL OR org = CAST(:org AS TEXT) ORDER BY at DESC;

-- name: read_note
-- A small value the service keeps beside the queue (the describe cache), in the meta table.
SELECT value FROM meta WHERE key = :key;

-- name: delete_note
DELETE FROM meta WHERE key = :key;

-- name: unfinished_by_type
-- Pending or leased changes per event type, and when the oldest of them arrived (the status page).
SELECT COALESCE(event_type, :default) AS event_type, COUNT(*) AS n, MIN(created_at) AS first
  FROM items WHERE state IN ('pending', 'leased') AND (CAST(:org AS TEXT) IS NULL OR org = CAST(:org AS TEXT))
 GROUP BY 1;

-- name: due_orgs
-- The orgs with something that could be handed out now (fair leasing takes them in turn).
SELECT org, COUNT(*) AS due FROM items
 WHERE state IN ('pending', 'leased')
   AND ((state = 'pending' AND available_at <= :now) OR (state = 'leased' AND lease_expires_at <= :now))
 GROUP BY org ORDER BY org;
