"""Money pillar: transfers, features, typologies, scores, traces."""
