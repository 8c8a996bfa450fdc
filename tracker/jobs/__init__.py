"""Periodic jobs: the SLA sweep and outbox delivery, run by `flask scheduler run`."""
