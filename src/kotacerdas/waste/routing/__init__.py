"""Vehicle routing behind the app's own interface (see `engine`).

Engines are looked up by name, so another solver can be added without
touching the planner: register a factory with `register_engine` and set
KOTACERDAS_ROUTING_ENGINE to its name.
"""

from collections.abc import Callable

from django.conf import settings

from kotacerdas.waste.routing.engine import Engine

_FACTORIES: dict[str, Callable[[], Engine]] = {}


class UnknownEngine(LookupError):
    pass


def register_engine(name: str, factory: Callable[[], Engine]) -> None:
    """Register `factory` to build the engine called `name`; a second call replaces it."""
    _FACTORIES[name] = factory


def engine_names() -> list[str]:
    return sorted(_FACTORIES)


def get_engine(name: str) -> Engine:
    """Build the engine registered as `name`, or raise UnknownEngine."""
    try:
        factory = _FACTORIES[name]
    except KeyError:
        known = ", ".join(engine_names())
        raise UnknownEngine(
            f"Routing engine {name!r} is not registered; known engines: {known}. "
            "Set KOTACERDAS_ROUTING_ENGINE to one of them."
        ) from None
    return factory()


def default_engine() -> Engine:
    """Build the engine named by the KOTACERDAS_ROUTING_ENGINE setting."""
    return get_engine(settings.KOTACERDAS_ROUTING_ENGINE)


def _register_builtin_engines() -> None:
    from kotacerdas.waste.routing.pyvrp_engine import PyVRPEngine

    register_engine(PyVRPEngine.name, PyVRPEngine)


_register_builtin_engines()
