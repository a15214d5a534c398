"""Incidents: the register, the classifier and clock, reports to the PPC and PrivacyMark, notices to persons."""
