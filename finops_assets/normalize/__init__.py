"""Stage 2, normalize: FX rates, the service catalog and the FOCUS model every later stage reads."""
