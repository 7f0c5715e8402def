"""Clients for the outside world: each an interface with a local and a real implementation."""
