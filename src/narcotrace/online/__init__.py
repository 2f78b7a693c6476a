"""Online pillar: find drug shops and courier recruitment in posts and pages."""
