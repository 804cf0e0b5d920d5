"""Service tests run against a local org with this repo's package deployed (`org`, `config_file`:
fixtures of the slotforce.testing plugin, registered in the root conftest.py)."""
