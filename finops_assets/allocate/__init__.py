"""Stage 3, allocate: versioned rules put every cost on exactly one business unit."""
