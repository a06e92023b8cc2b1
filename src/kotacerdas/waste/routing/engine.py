"""The routing interface the waste app plans with, independent of any solver.

A `Problem` is a day's work for some vehicles: jobs (buildings or containers)
with a load, a service time and an optional time window, vehicles with a
capacity, a depot, a shift and the sites where they may unload when full
(multi-trip). Times are seconds from midnight, distances metres, loads whole
kilograms. Locations are indexes into the problem's matrices, so a solver
never computes a distance itself: `distances` builds the matrices
(great-circle times a road factor, or an OSRM/Valhalla table).

An `Engine` turns a Problem into a `Solution` within a time limit. PyVRP is
the default (`pyvrp_engine`); another engine only has to implement `solve`.
"""

from dataclasses import dataclass, field
from typing import Protocol


@dataclass(frozen=True)
class Job:
    id: str
    location: int
    demand_kg: int
    service_s: int
    # Earliest and latest start of service; None means the vehicle's shift.
    window: tuple[int, int] | None = None
    # Optional jobs (e.g. containers just under their threshold) may be left out;
    # `prize` is what serving one is worth against distance.
    required: bool = True
    prize: int = 0


@dataclass(frozen=True)
class Vehicle:
    id: str
    capacity_kg: int
    depot: int
    shift: tuple[int, int]
    # Locations where the vehicle may empty its load and go on (TPA, TPS 3R).
    unload_sites: tuple[int, ...] = ()
    unload_service_s: int = 0
    # Jobs this vehicle must not serve are given per vehicle, e.g. streets a
    # truck cannot enter; empty means every job.
    allowed_jobs: frozenset[str] | None = None


@dataclass(frozen=True)
class Problem:
    # Metres and seconds between every pair of locations (square, same order).
    distance_m: list[list[int]]
    duration_s: list[list[int]]
    jobs: list[Job]
    vehicles: list[Vehicle]


@dataclass(frozen=True)
class Visit:
    kind: str  # "job" or "unload"
    # The job id for a job, the location index for an unload.
    ref: str
    location: int
    arrival_s: int
    trip: int


@dataclass
class Route:
    vehicle_id: str
    visits: list[Visit] = field(default_factory=list)
    distance_m: int = 0
    duration_s: int = 0
    start_s: int = 0
    end_s: int = 0

    @property
    def trips(self) -> int:
        return max((visit.trip for visit in self.visits), default=0)


@dataclass
class Solution:
    engine: str
    routes: list[Route]
    # Jobs no vehicle could serve within capacities and windows.
    unassigned: list[str]
    distance_m: int
    feasible: bool
    runtime_s: float


class Engine(Protocol):
    name: str

    def solve(
        self, problem: Problem, *, time_limit_s: float, seed: int = 1
    ) -> Solution:
        """Return the best solution found within the time limit."""
        ...
