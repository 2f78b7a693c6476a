"""Channels: join ads and money into drug channels."""
