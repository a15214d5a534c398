"""Keys and field encryption: master key, per-subject data keys, AES-256-GCM fields, crypto-erase."""
