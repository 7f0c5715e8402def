"""The deterministic sample estate: what `make demo` and the tests ingest."""
