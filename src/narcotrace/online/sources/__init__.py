"""Readers of posts: one module per format, each yielding posts with provenance."""
