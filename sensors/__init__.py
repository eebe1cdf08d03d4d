"""Hardware access: transports and pure protocol parsers (no judging, no Qt)."""
