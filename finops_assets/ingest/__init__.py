"""Stage 1, ingest: raw payloads archived, parsed into one typed Delta table per source."""
