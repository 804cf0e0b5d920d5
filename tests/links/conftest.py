"""Link sync tests run against the packaged local org (`org`, `config_file` from slotforce.testing)."""
