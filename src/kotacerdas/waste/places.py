"""Sites, containers and their plates, vehicles, crews and schedules."""


def register() -> None:
    """Register this area's worker jobs and replay checkers (called from ready())."""
