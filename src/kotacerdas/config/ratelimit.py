"""A fixed-window request limit kept in Django's cache.

Each limit counts the requests of one caller (a user id, or the client
address for anonymous callers) in the current window of `window_s` seconds.
The counter lives in the default cache. With the default local-memory cache
every web process counts on its own, so a city running N processes allows up
to N times the limit. A shared cache (Redis, Memcached) makes it exact.
"""

import logging
import time
from dataclasses import dataclass
from typing import Any

from django.core.cache import cache
from django.http import HttpRequest

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Limit:
    """At most `count` requests per caller in each window of `window_s` seconds."""

    name: str
    count: int
    window_s: int = 60


class RateLimited(Exception):
    """An exhausted limit, with `retry_after_s` seconds until its window resets."""

    def __init__(self, limit: Limit, retry_after_s: int) -> None:
        super().__init__(f"rate limit {limit.name} reached")
        self.limit = limit
        self.retry_after_s = retry_after_s


def caller_key(request: HttpRequest) -> str:
    """Identify the caller: the signed-in user, else the client address."""
    user: Any = getattr(request, "user", None)
    if user is not None and user.is_authenticated:
        return f"user:{user.pk}"
    return f"addr:{request.META.get('REMOTE_ADDR', 'unknown')}"


def hit(limit: Limit, request: HttpRequest) -> None:
    """Count one request against `limit`; raise RateLimited once it is used up."""
    now = int(time.time())
    window = now // limit.window_s
    key = f"ratelimit:{limit.name}:{caller_key(request)}:{window}"
    # add() is atomic in every cache backend, and incr() is atomic in the
    # local-memory, Redis and Memcached backends.
    cache.add(key, 0, timeout=limit.window_s + 1)
    try:
        used = cache.incr(key)
    except ValueError:
        # The entry expired between add() and incr(): this request starts a window.
        cache.set(key, 1, timeout=limit.window_s + 1)
        used = 1
    if used > limit.count:
        retry_after_s = (window + 1) * limit.window_s - now
        if used == limit.count + 1:
            logger.warning(
                "rate limit %s reached by %s",
                limit.name,
                caller_key(request),
                extra={"limit": limit.name},
            )
        raise RateLimited(limit, max(retry_after_s, 1))
