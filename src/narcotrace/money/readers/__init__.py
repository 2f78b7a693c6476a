"""Readers of transfers: one module per format, each yielding canonical rows."""
