"""Waste reports: tonnage, service coverage, waste-bank recovery, SIPSN export."""


def register() -> None:
    """Register this area's worker jobs and replay checkers (called from ready())."""
