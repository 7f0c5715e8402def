"""Stage 4, store: the reporting table finance reads, partitioned by provider, day and unit."""
