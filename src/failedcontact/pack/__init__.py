"""The pack pipeline: read, validate, check references, compile."""
