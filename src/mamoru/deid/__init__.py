"""Pseudonymized and anonymized information (APPI Arts. 41-46): plans, runs, registers, publication."""
