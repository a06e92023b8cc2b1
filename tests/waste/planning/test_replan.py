"""replan: finished stops kept, every open stop planned again or reported."""

import pytest
from tests.waste.planning.conftest import (
    PLAN_DAY,
    ROUTE_TIME_LIMIT_S,
    make_buildings,
    make_container,
    schedule,
)

from kotacerdas.waste.models import RoutePlan, RouteStop
from kotacerdas.waste.planning import PlanningInvalid, plan_day
from kotacerdas.waste.planning_replan import PlanChanged, replan

pytestmark = pytest.mark.django_db


def live_stops(plan: RoutePlan) -> list[RouteStop]:
    return list(plan.stops.exclude(status=RouteStop.Status.CANCELLED))


def point_keys(stops: list[RouteStop]) -> set[str]:
    return {
        f"b:{s.building_id}" if s.building_id else f"c:{s.container_id}"
        for s in stops
        if s.kind in (RouteStop.Kind.BUILDING, RouteStop.Kind.CONTAINER)
    }


def finish_first_stops(plan: RoutePlan, count: int) -> list[RouteStop]:
    stops = list(
        plan.stops.filter(kind=RouteStop.Kind.BUILDING).order_by("sequence")[:count]
    )
    statuses = [RouteStop.Status.DONE, RouteStop.Status.EXCEPTION]
    for index, stop in enumerate(stops):
        stop.status = statuses[index % 2]
        stop.save()
    return stops


@pytest.fixture
def planned(waste_city):
    make_buildings(waste_city.kelurahan, 6)
    schedule(waste_city.crew, waste_city.kelurahan)
    return plan_day(PLAN_DAY, time_limit_s=ROUTE_TIME_LIMIT_S)[0]


def test_replan_keeps_finished_stops(planned):
    before = point_keys(live_stops(planned))
    finished = finish_first_stops(planned, 2)

    result = replan(planned, reason="Road closed", time_limit_s=ROUTE_TIME_LIMIT_S)

    plan = result.plans[0]
    assert plan.revision == 2
    assert plan.replan_reason == "Road closed"
    assert plan.status == RoutePlan.Status.IN_PROGRESS
    kept = {stop.pk: stop for stop in live_stops(plan)}
    for stop in finished:
        assert kept[stop.pk].status == stop.status
        assert kept[stop.pk].revision == 1
    assert point_keys(list(kept.values())) == before
    assert result.unassigned == []


def test_replan_puts_new_stops_after_finished(planned):
    finished = finish_first_stops(planned, 2)

    plan = replan(planned, reason="Traffic", time_limit_s=ROUTE_TIME_LIMIT_S).plans[0]

    new = [s for s in live_stops(plan) if s.revision == 2]
    assert new, "the open stops are planned again"
    assert min(s.sequence for s in new) > max(s.sequence for s in finished)
    cancelled = plan.stops.filter(status=RouteStop.Status.CANCELLED)
    assert cancelled.filter(kind=RouteStop.Kind.BUILDING).count() == 4
    assert live_stops(plan)[-1].kind in (
        RouteStop.Kind.DEPOT_END,
        RouteStop.Kind.BUILDING,
    )


def test_replan_adds_point_and_full_container(waste_city, planned):
    extra = make_buildings(waste_city.kelurahan, 1, rw=9)[0]
    full = make_container(waste_city.tps, waste_city.kelurahan, fill="0.900")

    result = replan(
        planned,
        reason="Stop added by phone",
        added_points=[extra],
        time_limit_s=ROUTE_TIME_LIMIT_S,
    )

    keys = point_keys(live_stops(result.plans[0]))
    assert f"b:{extra.pk}" in keys
    assert f"c:{full.pk}" in keys


def test_broken_vehicle_moves_open_stops(waste_city, planned):
    make_buildings(waste_city.kelurahan, 3, rw=2)
    schedule(waste_city.spare_crew, waste_city.kelurahan)
    spare = plan_day(PLAN_DAY, time_limit_s=ROUTE_TIME_LIMIT_S)
    spare_plan = next(p for p in spare if p.vehicle == waste_city.spare_truck)
    finished = finish_first_stops(planned, 1)
    open_keys = point_keys(
        [s for s in live_stops(planned) if s.status == RouteStop.Status.PLANNED]
    )

    result = replan(
        planned,
        reason="Gearbox failed",
        vehicle_broken=True,
        time_limit_s=ROUTE_TIME_LIMIT_S,
    )

    broken = RoutePlan.objects.get(pk=planned.pk)
    assert broken.status == RoutePlan.Status.CANCELLED
    assert point_keys(live_stops(broken)) == point_keys(finished)
    spare_plan.refresh_from_db()
    # Both crews serve the same kelurahan, so the spare plan already has every
    # open stop and takes none: it stays as it was.
    assert spare_plan.revision == 1
    assert open_keys <= point_keys(live_stops(spare_plan))
    assert result.unassigned == []


def test_broken_vehicle_alone_reports_stops(planned):
    open_keys = point_keys(live_stops(planned))

    result = replan(planned, reason="Flat tyre", vehicle_broken=True, time_limit_s=1.0)

    assert set(result.unassigned) == open_keys
    broken = RoutePlan.objects.get(pk=planned.pk)
    not_fitted = [s for s in live_stops(broken) if s.kind == RouteStop.Kind.BUILDING]
    assert point_keys(not_fitted) == open_keys
    assert all(stop.arrival is None for stop in not_fitted)


def test_replan_rejects_stale_revision(planned):
    with pytest.raises(PlanChanged) as caught:
        replan(planned, reason="Traffic", expected_revision=5, time_limit_s=1.0)

    assert caught.value.field == "revision"
    assert "revision 1" in caught.value.message
    assert RoutePlan.objects.get(pk=planned.pk).revision == 1


@pytest.mark.parametrize("reason", ["", "   ", "x" * 201])
def test_replan_rejects_bad_reason(planned, reason):
    with pytest.raises(PlanningInvalid) as caught:
        replan(planned, reason=reason, time_limit_s=1.0)

    assert caught.value.field == "reason"
    assert RoutePlan.objects.get(pk=planned.pk).revision == 1
