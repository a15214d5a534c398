"""Purpose-bound decisions at every use of personal data."""
