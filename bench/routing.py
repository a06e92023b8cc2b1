"""Benchmark the routing engine (PyVRP) against plain VROOM and OR-Tools.

Usage: .venv/bin/python bench/routing.py [--time-limits 10 30]
       [--instances NAME ...] [--solvers pyvrp vroom ortools]

For each time limit it runs every solver on every instance listed in
bench/data/vrp/bks.csv, one after the other on one thread each, and prints a
table: customers, best-known cost (BKS), then cost, gap to BKS and wall time per
solver. Each solver's routes are checked and costed here, by the instance's own
convention, so the figures do not depend on what a solver reports about itself:

- CVRP (X set): Euclidean distances rounded to the nearest integer.
- VRPTW (Solomon): distances in double precision, the total rounded to 2
  decimals; vehicles are minimised first, then distance.
- VRPTW (Homberger 1000, DIMACS rule): distances and times truncated to one
  decimal; distance only.
- Multi-trip VRPTW with release dates (MTVRPTWR): the DIMACS rule in integers
  x10. Only PyVRP models reloads at the depot and release dates, so VROOM and
  OR-Tools are shown as n/a there.

Targets: at most 0.5% over BKS on X instances of up to 300 customers at 30 s,
and a lower cost than VROOM and OR-Tools on every instance both can model.
"""

import argparse
import csv
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from importlib import metadata
from pathlib import Path

import numpy as np
import pyvrp
import vrplib
from pyvrp.stop import MaxRuntime

from machine import print_machine

DATA = Path(__file__).resolve().parent / "data" / "vrp"
SOLVERS = ("pyvrp", "vroom", "ortools")
# The solvers see Solomon distances and times x1000 as integers. Travel times
# are rounded up, so a schedule feasible in those integers is also feasible in
# double precision, where the routes are checked.
SOLOMON_SCALE = 1000
# A vehicle costs more than any route's distance, so fewer vehicles always win
# on the Solomon instances (their ranking is vehicles first).
SOLOMON_VEHICLE_COST = 10_000 * SOLOMON_SCALE


@dataclass
class Instance:
    name: str
    kind: str  # "CVRP", "VRPTW" or "MTVRPTWR"
    convention: str  # "round", "solomon" or "dimacs"
    customers: int
    bks_cost: float
    bks_vehicles: int
    coords: np.ndarray
    demand: np.ndarray
    capacity: int
    fleet: int
    # Integer matrices the solvers see (same order as coords, depot 0).
    distance: np.ndarray
    duration: np.ndarray
    # Integer windows and service times in the solvers' units; None for CVRP.
    windows: np.ndarray | None
    service: np.ndarray
    path: Path

    @property
    def ranks_vehicles_first(self) -> bool:
        return self.convention == "solomon"


@dataclass
class Result:
    routes: list[list[int]] | None  # customer indexes per route, depot excluded
    seconds: float
    note: str = ""
    # Set when a solver is checked by PyVRP itself (multi-trip instances).
    cost_override: float | None = None


# Instances


def euclidean(coords: np.ndarray) -> np.ndarray:
    delta = coords[:, None, :] - coords[None, :, :]
    return np.sqrt((delta**2).sum(axis=2))


def load_instance(row: dict[str, str]) -> Instance:
    path = DATA / row["file"]
    is_solomon = row["file"].startswith("vrptw-solomon/")
    raw = vrplib.read_instance(
        path, instance_format="solomon" if is_solomon else "vrplib"
    )
    coords = np.asarray(raw["node_coord"], dtype=float)
    exact = euclidean(coords)
    size = len(coords)
    service = np.broadcast_to(np.asarray(raw.get("service_time", 0)), (size,)).copy()
    service[0] = 0
    windows = raw.get("time_window")
    if row["problem"] == "CVRP":
        convention = "round"
        distance = np.round(exact).astype(np.int64)
        duration = distance.copy()
        fleet = 2 * int(row["bks_vehicles"])
    elif is_solomon:
        convention = "solomon"
        distance = np.round(exact * SOLOMON_SCALE).astype(np.int64)
        duration = np.ceil(exact * SOLOMON_SCALE).astype(np.int64)
        service = service * SOLOMON_SCALE
        windows = np.asarray(windows) * SOLOMON_SCALE
        fleet = int(raw["vehicles"])
    else:
        convention = "dimacs"
        distance = np.floor(exact * 10).astype(np.int64)
        duration = distance.copy()
        service = service * 10
        windows = np.asarray(windows) * 10
        fleet = int(raw["vehicles"])
    return Instance(
        name=row["instance"],
        kind="MTVRPTWR" if row["problem"].startswith("multi-trip") else row["problem"],
        convention=convention,
        customers=int(row["customers"]),
        bks_cost=float(row["bks_cost"]),
        bks_vehicles=int(row["bks_vehicles"]),
        coords=coords,
        demand=np.asarray(raw["demand"], dtype=np.int64),
        capacity=int(raw["capacity"]),
        fleet=fleet,
        distance=distance,
        duration=duration,
        windows=None if windows is None else np.asarray(windows, dtype=np.int64),
        service=service.astype(np.int64),
        path=path,
    )


# Checking and costing


def check_routes(instance: Instance, routes: list[list[int]]) -> str:
    """Return an empty string if the routes are feasible, else what is wrong."""
    visited = sorted(customer for route in routes for customer in route)
    if visited != list(range(1, instance.customers + 1)):
        return "customers missing or repeated"
    if len(routes) > instance.fleet:
        return f"{len(routes)} routes for {instance.fleet} vehicles"
    for route in routes:
        if instance.demand[route].sum() > instance.capacity:
            return "capacity exceeded"
        if instance.windows is not None and not windows_kept(instance, route):
            return "time window missed"
    return ""


def windows_kept(instance: Instance, route: list[int]) -> bool:
    # Solomon is checked in double precision, the DIMACS rule in its integers.
    if instance.convention == "solomon":
        travel = euclidean(instance.coords)
        scale = SOLOMON_SCALE
    else:
        travel = instance.duration
        scale = 1
    windows = instance.windows
    assert windows is not None
    now = 0.0
    previous = 0
    for stop in [*route, 0]:
        now = max(now + travel[previous][stop], windows[stop][0] / scale)
        if now > windows[stop][1] / scale + 1e-9:
            return False
        now += instance.service[stop] / scale
        previous = stop
    return True


def route_cost(instance: Instance, routes: list[list[int]]) -> float:
    legs = [
        (a, b)
        for route in routes
        for a, b in zip([0, *route], [*route, 0], strict=True)
    ]
    if instance.convention == "solomon":
        exact = euclidean(instance.coords)
        return round(sum(exact[a][b] for a, b in legs), 2)
    total = sum(int(instance.distance[a][b]) for a, b in legs)
    return total / 10 if instance.convention == "dimacs" else total


# Solvers


def solve_pyvrp(instance: Instance, limit_s: float) -> Result:
    if instance.kind == "MTVRPTWR":
        return solve_pyvrp_multi_trip(instance, limit_s)
    int_max = int(np.iinfo(np.int64).max)
    windows = instance.windows
    depot_window = (0, int_max) if windows is None else tuple(map(int, windows[0]))
    clients = [
        pyvrp.Client(
            location=customer,
            delivery=[int(instance.demand[customer])],
            service_duration=int(instance.service[customer]),
            tw_early=0 if windows is None else int(windows[customer][0]),
            tw_late=int_max if windows is None else int(windows[customer][1]),
        )
        for customer in range(1, instance.customers + 1)
    ]
    vehicle_type = pyvrp.VehicleType(
        num_available=instance.fleet,
        capacity=[instance.capacity],
        fixed_cost=SOLOMON_VEHICLE_COST if instance.ranks_vehicles_first else 0,
        tw_early=depot_window[0],
        tw_late=depot_window[1],
    )
    data = pyvrp.ProblemData(
        locations=[pyvrp.Location(x=float(x), y=float(y)) for x, y in instance.coords],
        clients=clients,
        depots=[pyvrp.Depot(location=0)],
        vehicle_types=[vehicle_type],
        distance_matrices=[instance.distance],
        duration_matrices=[instance.duration],
    )
    started = time.perf_counter()
    result = pyvrp.solve(data, stop=MaxRuntime(limit_s), seed=1, display=False)
    seconds = time.perf_counter() - started
    if not result.best.is_feasible():
        return Result(None, seconds, "no feasible solution")
    # Client k (0-based) sits at location k + 1, the instance's customer number.
    routes = [
        [activity.idx + 1 for activity in route if activity.is_client()]
        for route in result.best.routes()
    ]
    return Result(routes, seconds)


def solve_pyvrp_multi_trip(instance: Instance, limit_s: float) -> Result:
    # PyVRP reads MTVRPTWR directly: reloads at the depot and release dates.
    data = pyvrp.read(instance.path, round_func="dimacs")
    started = time.perf_counter()
    result = pyvrp.solve(data, stop=MaxRuntime(limit_s), seed=1, display=False)
    seconds = time.perf_counter() - started
    if not result.best.is_feasible():
        return Result(None, seconds, "no feasible solution")
    return Result([], seconds, cost_override=result.best.distance())


def solve_vroom(instance: Instance, limit_s: float) -> Result:
    import vroom

    problem = vroom.Input()
    # VROOM's cost is travel time; giving it the distance matrix as durations
    # makes it minimise distance, and the real durations come in as the time
    # windows' clock only when they equal distances (all instances here).
    problem.set_durations_matrix("car", instance.duration)
    fixed = SOLOMON_VEHICLE_COST if instance.ranks_vehicles_first else 0
    window = instance.windows[0] if instance.windows is not None else None
    for vehicle in range(instance.fleet):
        problem.add_vehicle(
            vroom.Vehicle(
                vehicle,
                start=0,
                end=0,
                capacity=[instance.capacity],
                time_window=vroom.TimeWindow(int(window[0]), int(window[1]))
                if window is not None
                else None,
                costs=vroom.VehicleCosts(fixed=fixed),
            )
        )
    for customer in range(1, instance.customers + 1):
        windows = (
            [vroom.TimeWindow(*map(int, instance.windows[customer]))]
            if instance.windows is not None
            else ()
        )
        problem.add_job(
            vroom.Job(
                customer,
                location=customer,
                default_service=int(instance.service[customer]),
                delivery=[int(instance.demand[customer])],
                time_windows=windows,
            )
        )
    started = time.perf_counter()
    solution = problem.solve(
        exploration_level=5, nb_threads=1, timeout=timedelta(seconds=limit_s)
    )
    seconds = time.perf_counter() - started
    steps = solution.routes
    jobs = steps[steps["type"] == "job"]
    routes = [
        [int(customer) for customer in group["id"]]
        for _vehicle, group in jobs.groupby("vehicle_id", sort=False)
    ]
    return Result(routes, seconds)


def solve_ortools(instance: Instance, limit_s: float) -> Result:
    from ortools.constraint_solver import pywrapcp, routing_enums_pb2

    size = len(instance.coords)
    manager = pywrapcp.RoutingIndexManager(size, instance.fleet, 0)
    routing = pywrapcp.RoutingModel(manager)
    distance = routing.RegisterTransitMatrix(instance.distance.tolist())
    routing.SetArcCostEvaluatorOfAllVehicles(distance)
    if instance.ranks_vehicles_first:
        routing.SetFixedCostOfAllVehicles(SOLOMON_VEHICLE_COST)
    demand = routing.RegisterUnaryTransitVector(instance.demand.tolist())
    routing.AddDimensionWithVehicleCapacity(
        demand, 0, [instance.capacity] * instance.fleet, True, "load"
    )
    if instance.windows is not None:
        # Transit i -> j is the service at i plus the travel to j.
        transit = (instance.duration + instance.service[:, None]).tolist()
        horizon = int(instance.windows[0][1])
        time_callback = routing.RegisterTransitMatrix(transit)
        routing.AddDimension(time_callback, horizon, horizon, False, "time")
        clock = routing.GetDimensionOrDie("time")
        for customer in range(1, size):
            early, late = map(int, instance.windows[customer])
            clock.CumulVar(manager.NodeToIndex(customer)).SetRange(early, late)
        for vehicle in range(instance.fleet):
            for index in (routing.Start(vehicle), routing.End(vehicle)):
                clock.CumulVar(index).SetRange(0, horizon)
    parameters = pywrapcp.DefaultRoutingSearchParameters()
    parameters.first_solution_strategy = (
        routing_enums_pb2.FirstSolutionStrategy.PATH_CHEAPEST_ARC
    )
    parameters.local_search_metaheuristic = (
        routing_enums_pb2.LocalSearchMetaheuristic.GUIDED_LOCAL_SEARCH
    )
    parameters.time_limit.FromMilliseconds(int(limit_s * 1000))
    started = time.perf_counter()
    assignment = routing.SolveWithParameters(parameters)
    seconds = time.perf_counter() - started
    if assignment is None:
        return Result(None, seconds, "no solution")
    routes = []
    for vehicle in range(instance.fleet):
        index = assignment.Value(routing.NextVar(routing.Start(vehicle)))
        route = []
        while not routing.IsEnd(index):
            route.append(manager.IndexToNode(index))
            index = assignment.Value(routing.NextVar(index))
        if route:
            routes.append(route)
    return Result(routes, seconds)


SOLVE: dict[str, Callable[[Instance, float], Result]] = {
    "pyvrp": solve_pyvrp,
    "vroom": solve_vroom,
    "ortools": solve_ortools,
}


# Report


@dataclass
class Outcome:
    cost: float | None
    vehicles: int | None
    seconds: float | None
    note: str

    def key(self) -> tuple[float, float]:
        assert self.cost is not None
        return (self.vehicles or 0, self.cost)


def run_one(instance: Instance, solver: str, limit_s: float) -> Outcome:
    if instance.kind == "MTVRPTWR" and solver != "pyvrp":
        return Outcome(None, None, None, "n/a")
    result = SOLVE[solver](instance, limit_s)
    if result.cost_override is not None:
        # MTVRPTWR best-known costs are stated in the x10 integers themselves.
        return Outcome(result.cost_override, None, result.seconds, "")
    if result.routes is None:
        return Outcome(None, None, result.seconds, result.note)
    problem = check_routes(instance, result.routes)
    if problem:
        return Outcome(None, None, result.seconds, f"infeasible: {problem}")
    vehicles = len(result.routes) if instance.ranks_vehicles_first else None
    return Outcome(route_cost(instance, result.routes), vehicles, result.seconds, "")


def format_cell(instance: Instance, outcome: Outcome) -> str:
    if outcome.cost is None:
        seconds = f" {outcome.seconds:.1f} s" if outcome.seconds is not None else ""
        return f"{outcome.note}{seconds}"
    gap = 100 * (outcome.cost - instance.bks_cost) / instance.bks_cost
    vehicles = ""
    if outcome.vehicles is not None:
        vehicles = f" {outcome.vehicles} veh"
    return f"{outcome.cost:g}{vehicles} ({gap:+.2f}%) {outcome.seconds:.1f} s"


def print_table(
    limit_s: float, solvers: list[str], rows: list[tuple[Instance, dict[str, Outcome]]]
) -> None:
    print(f"\n### Time limit {limit_s:g} s\n")
    header = ["instance", "customers", "BKS", *solvers]
    print("| " + " | ".join(header) + " |")
    print("|" + "---|" * len(header))
    for instance, outcomes in rows:
        bks = f"{instance.bks_cost:g}"
        if instance.ranks_vehicles_first:
            bks += f" {instance.bks_vehicles} veh"
        cells = [format_cell(instance, outcomes[solver]) for solver in solvers]
        print(
            f"| {instance.name} | {instance.customers} | {bks} | "
            + " | ".join(cells)
            + " |"
        )


def print_targets(
    limit_s: float, solvers: list[str], rows: list[tuple[Instance, dict[str, Outcome]]]
) -> None:
    if "pyvrp" not in solvers:
        return
    if limit_s == 30:
        small_x = [
            (instance, outcomes["pyvrp"])
            for instance, outcomes in rows
            if instance.kind == "CVRP" and instance.customers <= 300
        ]
        misses = [
            instance.name
            for instance, outcome in small_x
            if outcome.cost is None or outcome.cost > instance.bks_cost * 1.005
        ]
        verdict = (
            "met"
            if small_x and not misses
            else f"missed on {misses or 'no instance run'}"
        )
        print(
            f"\nTarget <= 0.5% over BKS on X instances up to 300 customers: {verdict}"
        )
    losses, ties = [], []
    for instance, outcomes in rows:
        ours = outcomes["pyvrp"]
        for other in solvers:
            theirs = outcomes[other]
            if other == "pyvrp" or theirs.note == "n/a" or theirs.cost is None:
                continue
            if ours.cost is None or theirs.key() < ours.key():
                losses.append(f"{instance.name} vs {other}")
            elif theirs.key() == ours.key():
                ties.append(f"{instance.name} vs {other}")
    verdict = "met" if not losses and not ties else "missed"
    print(f"Target PyVRP better than every other solver at {limit_s:g} s: {verdict}")
    print(f"  worse: {', '.join(losses) or 'none'}; equal: {', '.join(ties) or 'none'}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--time-limits",
        nargs="+",
        type=float,
        default=[10.0, 30.0],
        help="time limit per solver and instance, in seconds (default: 10 30)",
    )
    parser.add_argument(
        "--instances", nargs="+", help="instance names from bks.csv (default: all)"
    )
    parser.add_argument(
        "--solvers",
        nargs="+",
        choices=SOLVERS,
        default=list(SOLVERS),
        help="solvers to run (default: all three)",
    )
    args = parser.parse_args()

    with open(DATA / "bks.csv", newline="") as file:
        catalogue = list(csv.DictReader(file))
    if args.instances:
        unknown = set(args.instances) - {row["instance"] for row in catalogue}
        if unknown:
            parser.error(f"unknown instances: {', '.join(sorted(unknown))}")
        catalogue = [row for row in catalogue if row["instance"] in args.instances]

    print_machine()
    versions = ", ".join(
        f"{package} {metadata.version(package)}"
        for package in ("pyvrp", "pyvroom", "ortools")
    )
    print(f"{versions}; one thread per solver", flush=True)
    instances = [load_instance(row) for row in catalogue]
    for limit_s in args.time_limits:
        rows = []
        for instance in instances:
            outcomes = {}
            for solver in args.solvers:
                outcomes[solver] = run_one(instance, solver, limit_s)
                print(
                    f"  {instance.name} {solver} {limit_s:g} s: "
                    f"{format_cell(instance, outcomes[solver])}",
                    file=sys.stderr,
                    flush=True,
                )
            rows.append((instance, outcomes))
        print_table(limit_s, args.solvers, rows)
        print_targets(limit_s, args.solvers, rows)
        sys.stdout.flush()
    return 0


if __name__ == "__main__":
    sys.exit(main())
