"""FOCUS conformance: normalized rows written as a FOCUS dataset and checked by focus-validator."""
