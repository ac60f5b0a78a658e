"""The per-region stack: CloudFormation generated from the application's own
definitions, so code and stack cannot drift."""
