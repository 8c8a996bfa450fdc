"""Pure-Python domain core: workflow, SLA clock and trust math (no Flask, no SQLAlchemy)."""
