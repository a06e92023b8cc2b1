"""The PyVRP engine on small waste-collection problems, checked independently."""

from dataclasses import replace

import pytest
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st
from tests.waste.routing.feasibility import check_solution

from kotacerdas.waste.routing import (
    UnknownEngine,
    default_engine,
    engine_names,
    get_engine,
    register_engine,
)
from kotacerdas.waste.routing.distances import great_circle_matrices
from kotacerdas.waste.routing.engine import Job, Problem, Solution, Vehicle
from kotacerdas.waste.routing.pyvrp_engine import InvalidProblem, PyVRPEngine

HOUR = 3600
SHIFT = (6 * HOUR, 14 * HOUR)
# Approximate points in and around Padang Panjang: location 0 is the depot,
# 1 the TPA, the rest collection points a few kilometres apart.
POINTS = [
    (-0.4571, 100.4097),
    (-0.4386, 100.3969),
    (-0.4630, 100.4040),
    (-0.4655, 100.4120),
    (-0.4700, 100.4000),
    (-0.4520, 100.4180),
    (-0.4480, 100.4050),
    (-0.4745, 100.4095),
    (-0.4600, 100.3950),
    (-0.4530, 100.3990),
    (-0.4680, 100.4210),
    (-0.4440, 100.4130),
]
DEPOT, TPA = 0, 1


def engine() -> PyVRPEngine:
    # Small problems converge within a few hundred iterations.
    return PyVRPEngine(max_iterations_without_improvement=2_000)


def problem(jobs: list[Job], vehicles: list[Vehicle]) -> Problem:
    distance_m, duration_s = great_circle_matrices(POINTS)
    return Problem(distance_m, duration_s, jobs, vehicles)


def truck(
    vehicle_id: str = "truck-1", capacity_kg: int = 3_000, **changes: object
) -> Vehicle:
    fields: dict = {
        "id": vehicle_id,
        "capacity_kg": capacity_kg,
        "depot": DEPOT,
        "shift": SHIFT,
        "unload_sites": (TPA,),
        "unload_service_s": 900,
    }
    fields.update(changes)
    return Vehicle(**fields)


def containers(demand_kg: int, count: int = 10, service_s: int = 300) -> list[Job]:
    return [
        Job(f"tps-{location}", location, demand_kg, service_s)
        for location in range(2, 2 + count)
    ]


def solve(jobs: list[Job], vehicles: list[Vehicle], limit_s: float = 2.0) -> Solution:
    solution = engine().solve(problem(jobs, vehicles), time_limit_s=limit_s)
    assert check_solution(problem(jobs, vehicles), solution) == []
    return solution


def served_by(solution: Solution) -> dict[str, str]:
    return {
        visit.ref: route.vehicle_id
        for route in solution.routes
        for visit in route.visits
        if visit.kind == "job"
    }


def test_small_day_served_in_one_trip() -> None:
    solution = solve(containers(200), [truck()])

    assert solution.feasible
    assert solution.unassigned == []
    assert solution.engine == "pyvrp"
    assert [route.trips for route in solution.routes] == [1]
    assert solution.distance_m > 0


def test_demand_over_capacity_uses_trips() -> None:
    # 10 containers of 900 kg on a 3,000 kg truck: at least 4 trips.
    solution = solve(containers(900), [truck()])

    assert solution.feasible
    route = solution.routes[0]
    assert route.trips >= 4
    unloads = [visit for visit in route.visits if visit.kind == "unload"]
    assert len(unloads) == route.trips - 1
    assert all(visit.location == TPA for visit in unloads)
    assert all(visit.ref == str(TPA) for visit in unloads)


def test_checker_catches_broken_routes() -> None:
    jobs = containers(900, count=4)
    solution = solve(jobs, [truck()])
    route = solution.routes[0]
    # Drop the unloads and renumber every visit into trip 1: 3,600 kg on 3,000.
    route.visits = [
        replace(visit, trip=1) for visit in route.visits if visit.kind == "job"
    ]
    late = replace(route.visits[0], arrival_s=0)
    route.visits[0] = late

    errors = check_solution(problem(jobs, [truck()]), solution)

    assert any("over 3000 kg" in error for error in errors)
    assert any("reported arrival 0" in error for error in errors)
    assert any("distance" in error for error in errors)


def test_job_windows_respected() -> None:
    jobs = containers(100, count=4)
    # The market TPS may only be emptied between 10:00 and 10:30.
    jobs[0] = Job("pasar", 2, 100, 600, window=(10 * HOUR, 10 * HOUR + 1800))
    solution = solve(jobs, [truck()])

    visit = next(v for r in solution.routes for v in r.visits if v.ref == "pasar")
    assert solution.feasible
    assert visit.arrival_s <= 10 * HOUR + 1800


def test_optional_job_left_when_prize_small() -> None:
    jobs = [
        *containers(100, count=3),
        Job("far-optional", 11, 100, 300, required=False, prize=1),
    ]
    solution = solve(jobs, [truck()])

    assert solution.feasible
    assert solution.unassigned == ["far-optional"]


def test_optional_job_served_when_prize_large() -> None:
    jobs = [
        *containers(100, count=3),
        Job("far-optional", 11, 100, 300, required=False, prize=1_000_000),
    ]
    solution = solve(jobs, [truck()])

    assert solution.feasible
    assert solution.unassigned == []
    assert "far-optional" in served_by(solution)


def test_allowed_jobs_keep_narrow_streets_to_becak() -> None:
    narrow = {"tps-3", "tps-4"}
    becak = truck("becak-1", 400, unload_sites=(), allowed_jobs=frozenset(narrow))
    big = truck(
        "truck-1",
        allowed_jobs=frozenset(job.id for job in containers(1) if job.id not in narrow),
    )
    solution = solve(containers(150), [big, becak])

    owners = served_by(solution)
    assert solution.feasible
    assert owners["tps-3"] == "becak-1"
    assert owners["tps-4"] == "becak-1"
    assert all(owners[job] == "truck-1" for job in owners if job not in narrow)


def test_too_heavy_job_unassigned() -> None:
    jobs = [*containers(100, count=3), Job("bulky", 5, 5_000, 300)]
    solution = solve(jobs, [truck()])

    assert not solution.feasible
    assert solution.unassigned == ["bulky"]
    assert len(served_by(solution)) == 3


def test_short_shift_drops_what_does_not_fit() -> None:
    short = truck(shift=(6 * HOUR, 6 * HOUR + 1800))
    solution = solve(containers(100, service_s=600), [short])

    assert not solution.feasible
    assert solution.unassigned
    assert len(served_by(solution)) + len(solution.unassigned) == 10


def test_no_vehicles_leaves_all_unassigned() -> None:
    solution = solve(containers(100, count=3), [])

    assert not solution.feasible
    assert sorted(solution.unassigned) == ["tps-2", "tps-3", "tps-4"]
    assert solution.routes == []


def test_invalid_location_names_the_job() -> None:
    jobs = [Job("tps-x", 99, 100, 60)]

    with pytest.raises(InvalidProblem, match=r"Job tps-x refers to location 99"):
        engine().solve(problem(jobs, [truck()]), time_limit_s=1)


def test_duplicate_job_ids_rejected() -> None:
    jobs = [Job("tps-2", 2, 100, 60), Job("tps-2", 3, 100, 60)]

    with pytest.raises(InvalidProblem, match="Job ids must be unique"):
        engine().solve(problem(jobs, [truck()]), time_limit_s=1)


def test_default_engine_is_pyvrp(settings) -> None:
    settings.KOTACERDAS_ROUTING_ENGINE = "pyvrp"

    assert isinstance(default_engine(), PyVRPEngine)
    assert "pyvrp" in engine_names()


def test_unknown_engine_names_setting(settings) -> None:
    settings.KOTACERDAS_ROUTING_ENGINE = "nonexistent"

    with pytest.raises(UnknownEngine, match="Set KOTACERDAS_ROUTING_ENGINE"):
        default_engine()


def test_registered_engine_found_by_name() -> None:
    class SlowPyVRP(PyVRPEngine):
        name = "pyvrp-to-limit"

    register_engine(SlowPyVRP.name, lambda: SlowPyVRP(None))

    built = get_engine("pyvrp-to-limit")
    assert isinstance(built, SlowPyVRP)
    assert built.max_iterations_without_improvement is None


@st.composite
def random_problems(draw: st.DrawFn) -> Problem:
    locations = len(POINTS)
    job_count = draw(st.integers(min_value=0, max_value=8))
    jobs = []
    for index in range(job_count):
        window = None
        if draw(st.booleans()):
            start = draw(st.integers(min_value=5 * HOUR, max_value=15 * HOUR))
            window = (start, start + draw(st.integers(min_value=0, max_value=3 * HOUR)))
        required = draw(st.booleans())
        jobs.append(
            Job(
                f"job-{index}",
                draw(st.integers(min_value=0, max_value=locations - 1)),
                draw(st.integers(min_value=0, max_value=4_000)),
                draw(st.integers(min_value=0, max_value=1_800)),
                window=window,
                required=required,
                prize=0 if required else draw(st.integers(0, 50_000)),
            )
        )
    vehicles = []
    for index in range(draw(st.integers(min_value=0, max_value=3))):
        start = draw(st.integers(min_value=5 * HOUR, max_value=8 * HOUR))
        allowed = None
        if jobs and draw(st.booleans()):
            allowed = frozenset(
                draw(st.sets(st.sampled_from([job.id for job in jobs])))
            )
        vehicles.append(
            Vehicle(
                f"vehicle-{index}",
                draw(st.integers(min_value=0, max_value=3_000)),
                draw(st.integers(min_value=0, max_value=locations - 1)),
                (start, start + draw(st.integers(min_value=0, max_value=8 * HOUR))),
                unload_sites=tuple(
                    draw(st.sets(st.integers(0, locations - 1), max_size=2))
                ),
                unload_service_s=draw(st.integers(min_value=0, max_value=1_200)),
                allowed_jobs=allowed,
            )
        )
    distance_m, duration_s = great_circle_matrices(POINTS)
    return Problem(distance_m, duration_s, jobs, vehicles)


@hypothesis_settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
@given(random_problems())
def test_random_problems_valid_or_unassigned(random_problem: Problem) -> None:
    solution = engine().solve(random_problem, time_limit_s=0.5)

    assert check_solution(random_problem, solution) == []
    required = {job.id for job in random_problem.jobs if job.required}
    assert solution.feasible == (not required & set(solution.unassigned))
