"""Statutory rules as pure functions: no database, no clock, no network."""
