"""The HTTP service: webhook intake, the sync worker, owner lookup and the status page (`slotforce serve`)."""
