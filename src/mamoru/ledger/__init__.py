"""Ledger entries, data subjects, acquisitions, consents and retention."""
