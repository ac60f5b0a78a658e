"""M5 Monitor application code, shipped with the Chalice app."""
