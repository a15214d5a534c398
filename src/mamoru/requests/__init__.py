"""Data-subject requests (APPI Arts. 32-39): intake, verification, deadlines, fulfilment, packages, letters."""
