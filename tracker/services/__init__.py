"""Use cases: the only code that commits. Web, API, jobs and CLI all call these."""
