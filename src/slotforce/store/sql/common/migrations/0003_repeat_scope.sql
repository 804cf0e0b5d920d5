-- Schema 3: whom a repeatable change is about; queued changes (NULL) are about the whole booking.
ALTER TABLE items ADD COLUMN repeat_scope TEXT;
