-- Schema 2: repeatable changes (No_Show, No_Show_Cleared, Completed) go in the order they happened;
-- queued ones get their order from the stored change, as enqueue now does.
ALTER TABLE items ADD COLUMN repeat_order BIGINT;
UPDATE items SET repeat_order = (change::jsonb ->> 'sequence')::bigint
 WHERE action IN ('Completed', 'No_Show', 'No_Show_Cleared') AND jsonb_typeof(change::jsonb -> 'sequence') = 'number';
