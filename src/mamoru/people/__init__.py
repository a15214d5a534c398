"""Staff, roles, pledges, training, internal rules, entry/exit events and inquiries."""
