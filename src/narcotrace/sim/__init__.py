"""Synthetic world: shops, ads, people, accounts, transfers and the ground truth."""
