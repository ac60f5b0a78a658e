"""Local tooling: build steps, the one-command local stack and demo data."""
