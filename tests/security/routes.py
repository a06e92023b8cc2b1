"""Every route the project serves, read from the URLconf, and how to fill its arguments."""

import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from django.urls import URLPattern, URLResolver, get_resolver

from kotacerdas.config.api import api

ARGUMENT = re.compile(r"<(?:(?P<converter>[^>:]+):)?(?P<name>[^>]+)>")

# URL names whose argument means something else than the same name elsewhere.
ARGUMENT_OVERRIDES = {
    "registry:plate_landing": {"code": "plate_code"},
}
ADMIN_PREFIX = "admin/"


@dataclass(frozen=True)
class Route:
    """One URL pattern: its namespaced name (or its route when unnamed)."""

    key: str
    route: str

    def arguments(self) -> list[str]:
        return [match["name"] for match in ARGUMENT.finditer(self.route)]

    def url(self, objects: dict[str, Any]) -> str:
        overrides = ARGUMENT_OVERRIDES.get(self.key, {})

        def fill(match: re.Match[str]) -> str:
            name = match["name"]
            value = objects[overrides.get(name, name)]
            return str(value)

        if self.key.startswith("wastebank:"):
            objects = {**objects, "code": objects["unit_code"]}
        return "/" + ARGUMENT.sub(fill, self.route)


def _walk(
    patterns: list[Any], prefix: str = "", namespace: str = ""
) -> Iterator[tuple[str, str]]:
    for pattern in patterns:
        route = prefix + str(pattern.pattern)
        if isinstance(pattern, URLResolver):
            inner = namespace
            if pattern.namespace:
                inner = (
                    f"{namespace}:{pattern.namespace}"
                    if namespace
                    else pattern.namespace
                )
            yield from _walk(pattern.url_patterns, route, inner)
        elif isinstance(pattern, URLPattern):
            name = pattern.name
            key = f"{namespace}:{name}" if namespace and name else (name or route)
            yield key, route


def page_routes() -> dict[str, Route]:
    """Return every URL pattern outside the API and the Django admin, by key."""
    routes: dict[str, Route] = {}
    for key, route in _walk(get_resolver().url_patterns):
        if route.startswith(("api/", ADMIN_PREFIX)):
            continue
        routes[key] = Route(key, route)
    return routes


def admin_routes() -> list[str]:
    return [
        r
        for _key, r in _walk(get_resolver().url_patterns)
        if r.startswith(ADMIN_PREFIX)
    ]


def api_operations() -> set[tuple[str, str]]:
    """Return (method, path) of every operation in the OpenAPI schema."""
    paths = api.get_openapi_schema()["paths"]
    return {
        (method.upper(), path)
        for path, operations in paths.items()
        for method in operations
    }


def api_routes() -> list[str]:
    """Return the routes under /api/ in the URLconf, including the schema pages."""
    return [r for _key, r in _walk(get_resolver().url_patterns) if r.startswith("api/")]
