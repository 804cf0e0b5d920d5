-- What PostgreSQL runs differently from sql/common/queries.sql, by name (store/queries.py loads them; `:name` parameters).
-- Every rule (order, supersede, parking, expiry, backoff) is in store/policy.py: these only read and write.

-- name: write_probe
-- Needs new pages as a delivery would (a full database fails here); always rolled back.
INSERT INTO meta (key, value) VALUES ('write_probe', repeat('x', :size::int))
ON CONFLICT (key) DO UPDATE SET value = excluded.value;

-- name: due_items
-- A page of what could be handed out, oldest first, without the change JSON (only what ordering needs).
SELECT id, org, dedupe_key, booking_uid, previous_booking_uid, requires_uid, establishes, action, event_type, state,
       expired_leases, attempts, lease_id, skip_create_wait, repeat_order, repeat_scope, created_at
FROM items
WHERE state IN ('pending', 'leased') AND id > :after
  AND ((state = 'pending' AND available_at <= :now) OR (state = 'leased' AND lease_expires_at <= :now))
ORDER BY id LIMIT :page
-- rows another worker is deciding on are left to it; per-booking order is kept by policy.blocked,
-- which sees an item locked elsewhere as unfinished (it is, until that worker commits).
FOR UPDATE SKIP LOCKED;

-- name: due_items_of_org
-- A page of what could be handed out, oldest first, without the change JSON (only what ordering needs).
-- One org's (the worker leases fairly, org by org): on items_unfinished_by_org (org, id), so a backlog in
-- another org is not scanned through.
SELECT id, org, dedupe_key, booking_uid, previous_booking_uid, requires_uid, establishes, action, event_type, state,
       expired_leases, attempts, lease_id, skip_create_wait, repeat_order, repeat_scope, created_at
FROM items
WHERE state IN ('pending', 'leased') AND id > :after AND org = :org
  AND ((state = 'pending' AND available_at <= :now) OR (state = 'leased' AND lease_expires_at <= :now))
ORDER BY id LIMIT :page
-- rows another worker is deciding on are left to it; per-booking order is kept by policy.blocked,
-- which sees an item locked elsewhere as unfinished (it is, until that worker commits).
FOR UPDATE SKIP LOCKED;

-- name: booking_items
-- The unfinished changes of the bookings of a page of due items (:uids: their uids and previous uids);
-- policy.blocked is given those of each item's booking.
SELECT id, org, state, requires_uid, repeat_order, booking_uid, previous_booking_uid FROM items
 WHERE booking_uid = ANY(:uids::text[]) AND state IN ('pending', 'leased')
UNION
SELECT id, org, state, requires_uid, repeat_order, booking_uid, previous_booking_uid FROM items
 WHERE previous_booking_uid = ANY(:uids::text[]) AND state IN ('pending', 'leased');

-- name: done_repeatables
SELECT id, org, action, dedupe_key, booking_uid, repeat_order, repeat_scope, outcome FROM items
 WHERE booking_uid = ANY(:uids::text[]) AND repeat_order IS NOT NULL AND state = 'done';

-- name: creates_of
SELECT id, org, state, booking_uid FROM items WHERE booking_uid = ANY(:uids::text[]) AND establishes = 1;

-- name: take_items
UPDATE items SET state = 'leased', lease_id = :lease_id, lease_owner = :worker, lease_expires_at = :expires,
       attempts = attempts + 1, updated_at = :now WHERE id = ANY(:ids::bigint[]);

-- name: inherit_event_types
UPDATE items SET event_type = (SELECT earlier.event_type FROM items AS earlier
    WHERE earlier.org = items.org AND earlier.booking_uid IN (items.booking_uid, items.previous_booking_uid)
      AND earlier.event_type IS NOT NULL AND earlier.id != items.id ORDER BY earlier.id DESC LIMIT 1)
WHERE id = ANY(:ids::bigint[]) AND event_type IS NULL;

-- name: get_items
SELECT * FROM items WHERE id = ANY(:ids::bigint[]) ORDER BY id;

-- name: leased_items
-- The lease's rows among :ids (the others went to another worker or are finished: stale).
SELECT id, org, booking_uid, event_type, attempts, dedupe_key FROM items
 WHERE id = ANY(:ids::bigint[]) AND state = 'leased' AND lease_id = :lease_id ORDER BY id FOR UPDATE;

-- name: set_pending
-- Back to the queue at :available_at; :give_back 1 when the lease was not an attempt (a budget wait).
UPDATE items SET state = 'pending', available_at = :available_at, attempts = GREATEST(attempts - :give_back, 0),
       last_error = :error, last_error_code = :code, lease_id = NULL, lease_owner = NULL, lease_expires_at = NULL,
       updated_at = :now WHERE id = :id;

-- name: lease_rows
-- A lease's items still leased, as policy.expired_lease reads them (it expired, or its worker gave it up).
-- Rows another worker's scan holds are left to it (it requeues them): waiting could deadlock.
SELECT id, org, state, attempts, expired_leases, event_type, lease_id FROM items
 WHERE state = 'leased' AND lease_id = :lease_id ORDER BY id FOR UPDATE SKIP LOCKED;

-- name: count_held
-- locked: a lease taking one of them meanwhile waits, then sees it renewed (or renew sees it gone)
SELECT COUNT(*) AS held FROM (SELECT id FROM items WHERE state = 'leased' AND lease_id = :lease_id FOR UPDATE) AS mine;

-- name: release
UPDATE items SET state = 'pending', available_at = :now, attempts = GREATEST(attempts - 1, 0), lease_id = NULL,
       lease_owner = NULL, lease_expires_at = NULL, updated_at = :now
 WHERE state = 'leased' AND lease_id = :lease_id AND (:id::bigint IS NULL OR id = :id::bigint);

-- name: items
SELECT * FROM items
 WHERE (:states::text[] IS NULL OR state = ANY(:states::text[]))
   AND (:uid::text IS NULL OR booking_uid = :uid::text OR previous_booking_uid = :uid::text) AND (CAST(:org AS TEXT) IS NULL OR org = CAST(:org AS TEXT))
 ORDER BY updated_at DESC, id DESC LIMIT :limit;

-- name: count_by_state
SELECT state, (state = 'pending' AND available_at > :now) AS scheduled, COUNT(*) AS n FROM items
 WHERE (CAST(:org AS TEXT) IS NULL OR org = CAST(:org AS TEXT)) GROUP BY 1, 2;

-- name: job_lock
-- One host at a time decides whether a periodic job is due.
SELECT pg_try_advisory_xact_lock(hashtext(:key)) AS locked;

-- name: claim_job
-- A periodic job's last start; claimed only when it is older than :cutoff.
INSERT INTO meta (key, value) VALUES (:key, :now)
ON CONFLICT (key) DO UPDATE SET value = excluded.value WHERE meta.value::float8 <= :cutoff;

-- name: meta_exists
SELECT to_regclass('meta') IS NOT NULL AS present;

-- name: migration_lock
SELECT pg_advisory_xact_lock(hashtext('slotforce:migrate')) AS locked;

-- name: wake_workers
-- Delivered on commit to every worker that LISTENs (PostgresStorage.wait_for_work), on any host.
SELECT pg_notify('slotforce_outbox', '') AS woken;

-- name: write_note
INSERT INTO meta (key, value) VALUES (:key, :value) ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value;

-- name: activity_minutes
-- Per minute and event type since :since: changes stored, landed (done, processed or pending) and
-- failed for good. One scan; the status page draws it.
SELECT minute, COALESCE(event_type, :default) AS event_type,
       SUM(CASE WHEN kind = 'accepted' THEN 1 ELSE 0 END) AS accepted,
       SUM(CASE WHEN kind = 'done' THEN 1 ELSE 0 END) AS landed,
       SUM(CASE WHEN kind = 'failed' THEN 1 ELSE 0 END) AS failed
  FROM (SELECT FLOOR(created_at / 60)::bigint AS minute, event_type, 'accepted' AS kind FROM items
         WHERE created_at >= :since AND (CAST(:org AS TEXT) IS NULL OR org = CAST(:org AS TEXT))
        UNION ALL
        SELECT FLOOR(updated_at / 60)::bigint, event_type, state FROM items
         WHERE updated_at >= :since AND (CAST(:org AS TEXT) IS NULL OR org = CAST(:org AS TEXT)) AND (state = 'failed' OR (state = 'done'
               AND (outcome::json ->> 'status') IN ('processed', 'pending')))) AS happened
 GROUP BY 1, 2 ORDER BY 1, 2;
