"""Signing letters: the typed-name electronic signature now; PKI (PAdES) plugs into the same interface."""
