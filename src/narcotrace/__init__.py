"""narcotrace: find online drug shops and follow their money."""

__version__ = "0.1.0"
