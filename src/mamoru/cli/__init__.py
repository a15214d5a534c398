"""Typer commands: thin, they call the services."""
