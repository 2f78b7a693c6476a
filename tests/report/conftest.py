"""Report tests use the hand-made workspace in report_world.py (also used by tests/export)."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
