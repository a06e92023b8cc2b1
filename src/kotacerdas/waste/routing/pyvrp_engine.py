"""The default routing engine: PyVRP's iterated local search (pyvrp 0.14).

How a `Problem` maps onto PyVRP:

- Each job becomes a PyVRP client with its own copy of its location, so two
  jobs at one place can still differ in which vehicles may serve them.
- A vehicle's depot is its start and end depot. Its unload sites become reload
  depots (PyVRP's multi-trip), each with the unload service time, so the load
  per trip never exceeds the capacity.
- The shift is the vehicle type's time window, so a route starts at or after
  the shift start and returns by its end. Job windows bound the start of service.
- `allowed_jobs` becomes a routing profile per distinct set in which every edge
  into a job the vehicle must not serve costs PyVRP's MAX_VALUE. That is a
  penalty, not a hard rule, so the result is checked afterwards.

When the search ends without a feasible solution, the engine solves again with
every job optional and required jobs worth a prize larger than any route, so the
solver drops only the jobs it cannot fit. Those are listed as unassigned and the
solution is marked infeasible. `Solution.feasible` therefore means that every
required job is served; the routes themselves always keep capacities, windows
and shifts.
"""

import logging
import time
import warnings
from dataclasses import dataclass
from typing import Any, cast

import numpy as np
import pyvrp
from pyvrp.constants import MAX_VALUE
from pyvrp.exceptions import PenaltyBoundWarning
from pyvrp.stop import MaxRuntime, MultipleCriteria, NoImprovement

from kotacerdas.waste.routing.engine import (
    Job,
    Problem,
    Route,
    Solution,
    Vehicle,
    Visit,
)

logger = logging.getLogger(__name__)


class InvalidProblem(ValueError):
    pass


@dataclass(frozen=True)
class _Model:
    """A Problem translated to PyVRP data, with the index maps needed to read back."""

    data: pyvrp.ProblemData
    # PyVRP client index -> Job; vehicle type index -> Vehicle.
    jobs: list[Job]
    vehicles: list[Vehicle]
    # PyVRP depot index -> location index in the Problem.
    depot_locations: list[int]


class PyVRPEngine:
    name = "pyvrp"

    def __init__(self, max_iterations_without_improvement: int | None = 20_000):
        # Small plans converge long before the time limit; stop once this many
        # iterations in a row found nothing better. None runs to the limit.
        self.max_iterations_without_improvement = max_iterations_without_improvement

    def solve(
        self, problem: Problem, *, time_limit_s: float, seed: int = 1
    ) -> Solution:
        """Solve `problem` within `time_limit_s`, dropping jobs that cannot fit.

        Raises InvalidProblem when the matrices, locations or ids are inconsistent.
        """
        started = time.perf_counter()
        validate_problem(problem)
        unservable = _unservable_jobs(problem)
        candidates = [job for job in problem.jobs if job.id not in unservable]
        logger.info(
            "Routing started: %d jobs, %d vehicles, limit %.1f s",
            len(problem.jobs),
            len(problem.vehicles),
            time_limit_s,
        )
        if not candidates or not problem.vehicles:
            return self._empty_solution(problem, started)

        # The first half of the time goes to the problem as given. A plan found
        # by a search that ran to its limit is improved for the other half. If
        # no plan was found, the other half goes to the all-optional variant.
        model = _build_model(problem, candidates, all_optional=False)
        first_s = time.perf_counter()
        best = self._search(model, time_limit_s / 2, seed)
        still_improving = time.perf_counter() - first_s >= 0.45 * time_limit_s
        # On a busy machine the first half can overrun the whole limit.
        remaining_s = max(time_limit_s - (time.perf_counter() - started), 0.0)
        if _usable(best, model) and still_improving and remaining_s > 0:
            best = self._search(model, remaining_s, seed, initial=best)
        elif not _usable(best, model):
            logger.warning(
                "Routing found no feasible plan for all required jobs; "
                "solving again with required jobs optional"
            )
            model = _build_model(problem, candidates, all_optional=True)
            best = self._search(model, max(remaining_s, 0.1), seed)
        if _usable(best, model):
            routes = [_read_route(route, model) for route in best.routes()]
        else:
            routes = []
        served = {visit.ref for route in routes for visit in route.visits}
        dropped = [job.id for job in candidates if job.id not in served]

        unassigned = sorted(unservable) + dropped
        required = {job.id for job in problem.jobs if job.required}
        solution = Solution(
            engine=self.name,
            routes=routes,
            unassigned=unassigned,
            distance_m=sum(route.distance_m for route in routes),
            feasible=not required.intersection(unassigned),
            runtime_s=time.perf_counter() - started,
        )
        logger.info(
            "Routing finished: %d routes, %d unassigned, %d m, %.1f s",
            len(routes),
            len(unassigned),
            solution.distance_m,
            solution.runtime_s,
        )
        return solution

    def _search(
        self,
        model: _Model,
        time_limit_s: float,
        seed: int,
        initial: pyvrp.Solution | None = None,
    ) -> pyvrp.Solution:
        """Run PyVRP once and return its best solution, feasible or not."""
        stop: pyvrp.stop.StoppingCriterion = MaxRuntime(time_limit_s)
        if self.max_iterations_without_improvement is not None:
            stop = MultipleCriteria(
                [stop, NoImprovement(self.max_iterations_without_improvement)]
            )
        with warnings.catch_warnings():
            # PyVRP warns when its penalties hit their bound. That happens on
            # every problem without a feasible solution, which the fallback handles.
            warnings.simplefilter("ignore", PenaltyBoundWarning)
            result = pyvrp.solve(
                model.data,
                stop=stop,
                seed=seed,
                collect_stats=False,
                initial_solution=initial,
            )
        return result.best

    def _empty_solution(self, problem: Problem, started: float) -> Solution:
        unassigned = [job.id for job in problem.jobs]
        return Solution(
            engine=self.name,
            routes=[],
            unassigned=unassigned,
            distance_m=0,
            feasible=not any(job.required for job in problem.jobs),
            runtime_s=time.perf_counter() - started,
        )


def validate_problem(problem: Problem) -> None:
    """Raise InvalidProblem naming the first inconsistent field."""
    size = len(problem.distance_m)
    for name, matrix in (
        ("distance_m", problem.distance_m),
        ("duration_s", problem.duration_s),
    ):
        if len(matrix) != size or any(len(row) != size for row in matrix):
            raise InvalidProblem(
                f"Problem.{name} must be a square matrix of {size} x {size}; "
                "build both matrices from the same list of points."
            )
        if any(value < 0 for row in matrix for value in row):
            raise InvalidProblem(f"Problem.{name} contains a negative value.")

    def check_location(owner: str, location: int) -> None:
        if not 0 <= location < size:
            raise InvalidProblem(
                f"{owner} refers to location {location}, but the matrices have "
                f"{size} locations (0 to {size - 1})."
            )

    job_ids = [job.id for job in problem.jobs]
    if len(set(job_ids)) != len(job_ids):
        raise InvalidProblem("Job ids must be unique within a problem.")
    for job in problem.jobs:
        check_location(f"Job {job.id}", job.location)
        if job.demand_kg < 0 or job.service_s < 0 or job.prize < 0:
            raise InvalidProblem(
                f"Job {job.id} has a negative demand, service time or prize."
            )
        if job.window is not None and job.window[0] > job.window[1]:
            raise InvalidProblem(
                f"Job {job.id} has a window that ends before it starts."
            )
    for vehicle in problem.vehicles:
        check_location(f"Vehicle {vehicle.id} depot", vehicle.depot)
        for site in vehicle.unload_sites:
            check_location(f"Vehicle {vehicle.id} unload site", site)
        if vehicle.capacity_kg < 0 or vehicle.shift[0] > vehicle.shift[1]:
            raise InvalidProblem(
                f"Vehicle {vehicle.id} has a negative capacity or a shift that "
                "ends before it starts."
            )


def _unservable_jobs(problem: Problem) -> set[str]:
    """Return the ids of jobs no single vehicle could serve even on its own.

    A job is unservable when every vehicle allowed to serve it is too small for
    its demand, or cannot reach it from the depot within the job's window and
    return to the depot before the end of its shift.
    """
    unservable = set()
    for job in problem.jobs:
        if not any(
            _can_serve_alone(vehicle, job, problem) for vehicle in problem.vehicles
        ):
            unservable.add(job.id)
    return unservable


def _can_serve_alone(vehicle: Vehicle, job: Job, problem: Problem) -> bool:
    if vehicle.allowed_jobs is not None and job.id not in vehicle.allowed_jobs:
        return False
    if job.demand_kg > vehicle.capacity_kg:
        return False
    early, late = job.window if job.window is not None else vehicle.shift
    arrival = vehicle.shift[0] + problem.duration_s[vehicle.depot][job.location]
    start = max(arrival, early)
    back = start + job.service_s + problem.duration_s[job.location][vehicle.depot]
    return start <= late and back <= vehicle.shift[1]


def _build_model(problem: Problem, jobs: list[Job], *, all_optional: bool) -> _Model:
    size = len(problem.distance_m)
    base_distance = np.asarray(problem.distance_m, dtype=np.int64)
    base_duration = np.asarray(problem.duration_s, dtype=np.int64)
    # PyVRP locations: the problem's own first, then one copy per job.
    copies = [job.location for job in jobs]
    order = list(range(size)) + copies
    distance = base_distance[np.ix_(order, order)]
    duration = base_duration[np.ix_(order, order)]
    locations = [pyvrp.Location(x=0, y=0) for _ in order]

    depot_keys: dict[tuple[int, int], int] = {}

    def depot_index(location: int, service_s: int) -> int:
        return depot_keys.setdefault((location, service_s), len(depot_keys))

    vehicle_depots = [
        (
            depot_index(vehicle.depot, 0),
            [
                depot_index(site, vehicle.unload_service_s)
                for site in vehicle.unload_sites
            ],
        )
        for vehicle in problem.vehicles
    ]
    depots = [
        pyvrp.Depot(location=location, service_duration=service_s)
        for (location, service_s) in depot_keys
    ]

    prize_for_required = _prize_above_any_route(distance, len(jobs))
    clients = [
        pyvrp.Client(
            location=size + index,
            delivery=[job.demand_kg],
            service_duration=job.service_s,
            tw_early=job.window[0] if job.window else 0,
            tw_late=job.window[1] if job.window else int(np.iinfo(np.int64).max),
            prize=prize_for_required if (job.required and all_optional) else job.prize,
            required=job.required and not all_optional,
        )
        for index, job in enumerate(jobs)
    ]

    profiles, profile_of_vehicle = _profiles(problem.vehicles, jobs, size, distance)
    # NOTE: the last trip ends at the depot without an unload, so a truck may
    # carry its last load home. Forcing a final TPA stop would need an end
    # depot reached via the unload site, which PyVRP 0.14 cannot express.
    vehicle_types = [
        pyvrp.VehicleType(
            num_available=1,
            capacity=[vehicle.capacity_kg],
            start_depot=start,
            end_depot=start,
            tw_early=vehicle.shift[0],
            tw_late=vehicle.shift[1],
            reload_depots=reloads,
            profile=profile_of_vehicle[index],
            name=vehicle.id,
        )
        for index, (vehicle, (start, reloads)) in enumerate(
            zip(problem.vehicles, vehicle_depots, strict=True)
        )
    ]
    data = pyvrp.ProblemData(
        locations=locations,
        clients=clients,
        depots=depots,
        vehicle_types=vehicle_types,
        # PyVRP's stub spells the matrices ndarray[int], which is not a numpy
        # shape type, so no real array matches it.
        distance_matrices=cast(list[Any], profiles),
        duration_matrices=cast(list[Any], [duration] * len(profiles)),
    )
    return _Model(
        data=data,
        jobs=jobs,
        vehicles=list(problem.vehicles),
        depot_locations=[location for (location, _service) in depot_keys],
    )


def _prize_above_any_route(distance: np.ndarray, job_count: int) -> int:
    # Inserting a job, even with an extra unload before it, adds at most three
    # of the longest edges. This prize is at least four, so dropping a required
    # job that fits never lowers the cost.
    longest = int(distance.max()) if distance.size else 0
    return min(2 * longest * (job_count + 1) + 1, MAX_VALUE // 4)


def _profiles(
    vehicles: list[Vehicle], jobs: list[Job], size: int, distance: np.ndarray
) -> tuple[list[np.ndarray], list[int]]:
    """Return one distance matrix per distinct allowed-jobs set, and each vehicle's."""
    keys: dict[frozenset[str] | None, int] = {}
    matrices: list[np.ndarray] = []
    of_vehicle = []
    for vehicle in vehicles:
        key = vehicle.allowed_jobs
        if key not in keys:
            keys[key] = len(matrices)
            matrix = distance.copy()
            if key is not None:
                for index, job in enumerate(jobs):
                    if job.id not in key:
                        matrix[:, size + index] = MAX_VALUE
                        matrix[size + index, size + index] = 0
            matrices.append(matrix)
        of_vehicle.append(keys[key])
    return matrices, of_vehicle


def _usable(solution: pyvrp.Solution, model: _Model) -> bool:
    return solution.is_feasible() and not _serves_forbidden_job(solution, model)


def _serves_forbidden_job(solution: pyvrp.Solution, model: _Model) -> bool:
    for route in solution.routes():
        vehicle = model.vehicles[route.vehicle_type()]
        if vehicle.allowed_jobs is None:
            continue
        for activity in route:
            if not activity.is_client():
                continue
            if model.jobs[activity.idx].id not in vehicle.allowed_jobs:
                return True
    return False


def _read_route(route: pyvrp.Route, model: _Model) -> Route:
    vehicle = model.vehicles[route.vehicle_type()]
    schedule = route.schedule()
    visits = []
    # The schedule opens and closes with the start and end depot; anything in
    # between is either a client or a reload depot (an unload).
    for activity in schedule[1:-1]:
        arrival_s = int(activity.start_time - activity.wait_duration)
        if activity.is_client():
            job = model.jobs[activity.idx]
            visits.append(
                Visit("job", job.id, job.location, arrival_s, activity.trip + 1)
            )
        else:
            # PyVRP counts a reload depot in the trip it starts (0-based); an
            # unload belongs to the trip it ends, which is that number 1-based.
            location = model.depot_locations[activity.idx]
            visits.append(
                Visit("unload", str(location), location, arrival_s, activity.trip)
            )
    return Route(
        vehicle_id=vehicle.id,
        visits=visits,
        distance_m=int(route.distance()),
        duration_s=int(route.duration()),
        start_s=int(route.start_time()),
        end_s=int(route.end_time()),
    )
