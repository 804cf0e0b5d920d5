"""The sync engine: booking changes in, Booking Action records (and the people they need) out.

Pipeline (one module per step):
  booking.py   BookingChange, the canonical change every source produces
  settings.py  slotforce.yml models, load_settings, check_config
  fetch.py     the <=5 queries a batch needs (soql.py quotes every value) -> snapshot.py
  resolve.py   who the attendee is     accounts.py  which Account (waterfall, tiebreak)
  owner.py     round-robin owner       writes.py    field mapping values
  plan.py      BookingPlan, a printable value per change (with its trace, trace.py)
  requests.py  plans -> Composite bodies   gateway.py  the only module that calls Salesforce
  engine.py    SyncEngine.sync / sync_batch(changes, settings, sf) -> [Outcome]; owner_for
"""
