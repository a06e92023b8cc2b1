"""Daily route plans per vehicle from the schedules and full containers; re-plans."""


def register() -> None:
    """Register this area's worker jobs and replay checkers (called from ready())."""
