"""The Delta layer: table contracts, partition writes, reads with pushdown."""
