"""The collector's route lists stops the planner could not fit apart from the route."""

from kotacerdas.waste.models import RouteStop
from kotacerdas.waste.pickups_route import plan_data


def test_stops_after_depot_return_listed_apart(route):
    RouteStop.objects.create(
        plan=route.plan,
        sequence=6,
        kind="depot_end",
        site=route.depot,
        lat=route.depot.lat,
        lng=route.depot.lng,
    )
    RouteStop.objects.filter(pk=route.stops[3].pk).update(sequence=7, arrival=None)

    data = plan_data(route.plan)

    assert [stop["id"] for stop in data["unfitted"]] == [route.stops[3].pk]
    assert route.stops[3].pk not in [stop["id"] for stop in data["stops"]]
    assert data["visits"] == 3


def test_route_without_depot_return_has_no_unfitted(route):
    data = plan_data(route.plan)

    assert data["unfitted"] == []
    assert data["visits"] == 4
