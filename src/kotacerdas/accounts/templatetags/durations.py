from datetime import timedelta

from django import template

register = template.Library()


@register.filter
def total_minutes(value: timedelta | None) -> int:
    """Return a duration in whole minutes, rounded up so a lock never reads as 0."""
    if value is None:
        return 0
    seconds = int(value.total_seconds())
    return -(-seconds // 60)
