"""Container fill levels from MQTT and HTTP, alerts, silent sensors."""


def register() -> None:
    """Register this area's worker jobs and replay checkers (called from ready())."""
