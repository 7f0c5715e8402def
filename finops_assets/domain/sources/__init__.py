"""One module per billing source: parse the provider's wire format, map it to FOCUS."""
