"""Discovery: finding personal information in files and database columns.

`recognizers/` and `analyzer`, `columns`, `mask` are pure (no database, no clock, no network); `files`,
`database`, `gaps` and `service` are the adapters around them.
"""
