"""Shipped models: post classifier and money risk model, each with its model card (JSON)."""
