"""Transfers of personal data to and from third parties: provision and receipt records (APPI Arts. 29, 30)."""
