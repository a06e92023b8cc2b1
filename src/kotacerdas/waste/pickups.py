"""Recording pickups from the collector's phone: scans, exceptions, review, credits."""


def register() -> None:
    """Register this area's worker jobs and replay checkers (called from ready())."""
