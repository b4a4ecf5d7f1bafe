"""Records from other systems: FHIR bundles, case tables, Parquet and Arrow, Spark."""
