"""Connectors: requests reach the organization's own databases through dataset maps."""
