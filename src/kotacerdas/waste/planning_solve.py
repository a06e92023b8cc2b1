"""One vehicle's routing problem: built from targets, solved by the default engine.

The route may start somewhere other than the depot (a re-plan starts at the
last finished stop) but always ends at the depot. The routing interface has one
depot location for both ends, so the start is a virtual location: travel from
it is travel from the start point, and travel to it is travel to the depot.
"""

import logging
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from decimal import Decimal

from kotacerdas.waste import routing
from kotacerdas.waste.models import Site, Vehicle
from kotacerdas.waste.planning_problem import Target, unload_sites
from kotacerdas.waste.routing import distances
from kotacerdas.waste.routing.engine import Job, Problem, Route, Visit
from kotacerdas.waste.routing.engine import Vehicle as EngineVehicle

logger = logging.getLogger(__name__)

START = 0  # the virtual start location of every problem built here
# Job id of the load a re-planned vehicle already carries (see solve_vehicle_route).
CARRIED_LOAD = "carried-load"


@dataclass
class SolvedRoute:
    """A solved route with its locations mapped back to sites and targets."""

    engine: str
    route: Route | None
    targets: dict[str, Target]
    # Location index of each unload site in the problem.
    sites_by_location: dict[int, Site]
    unassigned: list[str] = field(default_factory=list)


def _matrices(
    points: list[tuple[Decimal, Decimal]],
) -> tuple[list[list[int]], list[list[int]]]:
    """Return metres and seconds with point 0 the start and point 1 the depot.

    The result drops point 1: row 0 is travel from the start, column 0 is travel
    to the depot.
    """
    metres, seconds = distances.build_matrices(
        [(float(lat), float(lng)) for lat, lng in points]
    )

    def fold(matrix: list[list[int]]) -> list[list[int]]:
        keep = [0, *range(2, len(points))]
        folded = [[int(matrix[i][j]) for j in keep] for i in keep]
        for row, i in enumerate(keep):
            folded[row][0] = 0 if row == 0 else int(matrix[i][1])
        return folded

    return fold(metres), fold(seconds)


def _unload_before_depot(
    route: Route, problem: Problem, vehicle: EngineVehicle
) -> None:
    """Add a last unload when the route would drive back to the depot loaded.

    The engine unloads only when the vehicle is full, but a truck may not park
    loaded overnight, so the last trip ends at the unload site that adds the
    least time on the way back to the depot.
    """
    # Never right after another unload: the truck is empty there.
    if not route.visits or route.visits[-1].kind != "job" or not vehicle.unload_sites:
        return
    last = route.visits[-1]
    job = next(job for job in problem.jobs if job.id == last.ref)
    seconds = problem.duration_s
    metres = problem.distance_m
    site = min(
        vehicle.unload_sites,
        key=lambda s: seconds[last.location][s] + seconds[s][START],
    )
    start_s = max(last.arrival_s, job.window[0] if job.window else 0)
    arrival_s = start_s + job.service_s + seconds[last.location][site]
    route.visits.append(Visit("unload", str(site), site, arrival_s, last.trip))
    route.end_s = arrival_s + vehicle.unload_service_s + seconds[site][START]
    route.duration_s = route.end_s - route.start_s
    route.distance_m += (
        metres[last.location][site] + metres[site][START] - metres[last.location][START]
    )


def _without_empty_trips(visits: list[Visit]) -> list[Visit]:
    """Drop an unload that directly follows another: nothing was collected between.

    The planned times after it stay as solved, so they err on the late side.
    """
    kept: list[Visit] = []
    dropped = 0
    for visit in visits:
        if visit.kind == "unload" and kept and kept[-1].kind == "unload":
            logger.warning("dropped an unload right after another unload")
            dropped += 1
            continue
        kept.append(replace(visit, trip=visit.trip - dropped))
    return kept


def solve_vehicle_route(
    vehicle: Vehicle,
    *,
    start_point: tuple[Decimal, Decimal],
    shift: tuple[int, int],
    targets: Sequence[Target],
    time_limit_s: float,
    carried_kg: int = 0,
) -> SolvedRoute:
    """Solve one vehicle's route over `targets` within its shift.

    `carried_kg` is the load already on board at the start (a re-plan after
    pick-ups). It is modelled as a job at the start point with a window at the
    start time, so it is the first visit of the first trip and the solver plans
    an unload for it; that job is left out of the returned route.
    """
    carried_kg = min(max(carried_kg, 0), vehicle.capacity_kg)
    sites = unload_sites(vehicle, near=targets)
    if not targets and not carried_kg:
        name = routing.default_engine().name
        return SolvedRoute(engine=name, route=None, targets={}, sites_by_location={})
    if not sites:
        carried_kg = 0
    depot = vehicle.depot
    points = [start_point, (depot.lat, depot.lng)]
    points += [(site.lat, site.lng) for site in sites]
    if carried_kg:
        points.append(start_point)
    points += [(target.lat, target.lng) for target in targets]
    distance_m, duration_s = _matrices(points)

    first_site = 1
    site_locations = tuple(range(first_site, first_site + len(sites)))
    first_job = first_site + len(sites)
    jobs = []
    if carried_kg:
        # Loaded before anything else: a later visit would leave room on the
        # trips before it that the truck does not have.
        window = (shift[0], shift[0])
        jobs.append(
            Job(CARRIED_LOAD, first_job, carried_kg, service_s=0, window=window)
        )
        first_job += 1
    jobs += [
        Job(
            id=target.key,
            location=first_job + index,
            demand_kg=target.demand_kg,
            service_s=target.service_s,
            window=target.window,
        )
        for index, target in enumerate(targets)
    ]
    engine_vehicle = EngineVehicle(
        id=str(vehicle.pk),
        capacity_kg=vehicle.capacity_kg,
        depot=START,
        shift=shift,
        unload_sites=site_locations,
        unload_service_s=max((site.service_minutes * 60 for site in sites), default=0),
    )
    problem = Problem(
        distance_m=distance_m,
        duration_s=duration_s,
        jobs=jobs,
        vehicles=[engine_vehicle],
    )
    engine = routing.default_engine()
    solution = engine.solve(problem, time_limit_s=time_limit_s)
    logger.info(
        "solved route of vehicle %s: %s jobs, %s unassigned, feasible %s, %.1f s",
        vehicle.pk,
        len(jobs),
        len(solution.unassigned),
        solution.feasible,
        solution.runtime_s,
        extra={"vehicle_id": vehicle.pk},
    )
    route = next((r for r in solution.routes if r.vehicle_id == str(vehicle.pk)), None)
    if route is not None:
        _unload_before_depot(route, problem, engine_vehicle)
        route.visits = _without_empty_trips(
            [visit for visit in route.visits if visit.ref != CARRIED_LOAD]
        )
    if CARRIED_LOAD in solution.unassigned:
        logger.warning(
            "vehicle %s: no unload planned for the %s kg it carries",
            vehicle.pk,
            carried_kg,
            extra={"vehicle_id": vehicle.pk},
        )
    return SolvedRoute(
        engine=solution.engine,
        route=route,
        targets={target.key: target for target in targets},
        sites_by_location={first_site + i: site for i, site in enumerate(sites)},
        unassigned=[key for key in solution.unassigned if key != CARRIED_LOAD],
    )
