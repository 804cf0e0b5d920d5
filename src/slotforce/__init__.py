"""slotforce: scheduling data into Salesforce — package, sync engine and a local org."""

__version__ = "0.1.0"
