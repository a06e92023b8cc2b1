"""An independent feasibility check of a routing Solution against its Problem.

It recomputes every schedule from the matrices instead of trusting the engine.
Each route starts at its vehicle's depot no earlier than the shift, waits for a
job's window, serves the job, and must be back by the end of the shift. Loads
are summed per trip, and a trip ends at an unload.
"""

from kotacerdas.waste.routing.engine import Problem, Route, Solution


def check_solution(problem: Problem, solution: Solution) -> list[str]:
    """Return every violation found; an empty list means the solution is valid."""
    errors: list[str] = []
    jobs = {job.id: job for job in problem.jobs}
    vehicles = {vehicle.id: vehicle for vehicle in problem.vehicles}

    served = [
        visit.ref
        for route in solution.routes
        for visit in route.visits
        if visit.kind == "job"
    ]
    if len(served) != len(set(served)):
        errors.append(f"jobs served more than once: {sorted(served)}")
    if set(served) & set(solution.unassigned):
        errors.append("a job is both served and unassigned")
    if set(served) | set(solution.unassigned) != set(jobs):
        errors.append("served and unassigned jobs do not cover the problem's jobs")
    required_left = [job_id for job_id in solution.unassigned if jobs[job_id].required]
    if solution.feasible and required_left:
        errors.append(f"marked feasible with required jobs left: {required_left}")

    route_vehicles = [route.vehicle_id for route in solution.routes]
    if len(route_vehicles) != len(set(route_vehicles)):
        errors.append("a vehicle has more than one route")
    for route in solution.routes:
        if route.vehicle_id not in vehicles:
            errors.append(f"route for unknown vehicle {route.vehicle_id}")
            continue
        errors.extend(check_route(problem, route))
    total = sum(route.distance_m for route in solution.routes)
    if solution.distance_m != total:
        errors.append(f"solution distance {solution.distance_m} != sum {total}")
    return errors


def check_route(problem: Problem, route: Route) -> list[str]:
    errors: list[str] = []
    jobs = {job.id: job for job in problem.jobs}
    vehicle = next(v for v in problem.vehicles if v.id == route.vehicle_id)
    shift_start, shift_end = vehicle.shift
    if route.start_s < shift_start:
        errors.append(f"{vehicle.id} starts at {route.start_s}, before its shift")

    clock = route.start_s
    here = vehicle.depot
    distance = 0
    load = 0
    trip = 1
    for visit in route.visits:
        travel = problem.duration_s[here][visit.location]
        distance += problem.distance_m[here][visit.location]
        arrival = clock + travel
        if visit.arrival_s < arrival:
            errors.append(
                f"{visit.ref} reported arrival {visit.arrival_s}, "
                f"earliest possible {arrival}"
            )
        arrival = max(arrival, visit.arrival_s)
        if visit.trip != trip:
            errors.append(f"{visit.ref} is on trip {visit.trip}, expected {trip}")
        if visit.kind == "unload":
            if visit.location not in vehicle.unload_sites:
                errors.append(f"{vehicle.id} unloads at {visit.location}, not a site")
            load = 0
            trip += 1
            clock = arrival + vehicle.unload_service_s
        else:
            job = jobs[visit.ref]
            if visit.location != job.location:
                errors.append(f"{job.id} visited at the wrong location")
            allowed = vehicle.allowed_jobs
            if allowed is not None and job.id not in allowed:
                errors.append(f"{vehicle.id} serves {job.id}, which it must not")
            early, late = job.window if job.window else vehicle.shift
            start = max(arrival, early)
            if start > late:
                errors.append(f"{job.id} starts at {start}, after its window {late}")
            load += job.demand_kg
            if load > vehicle.capacity_kg:
                errors.append(
                    f"{vehicle.id} carries {load} kg on trip {trip}, "
                    f"over {vehicle.capacity_kg} kg"
                )
            clock = start + job.service_s
        here = visit.location

    back = clock + problem.duration_s[here][vehicle.depot]
    distance += problem.distance_m[here][vehicle.depot]
    if back > shift_end:
        errors.append(f"{vehicle.id} is back at {back}, after its shift ends")
    if route.end_s > shift_end:
        errors.append(f"{vehicle.id} reports end {route.end_s}, after its shift")
    if route.distance_m != distance:
        errors.append(f"{vehicle.id} distance {route.distance_m} != {distance}")
    return errors
