"""JSON log lines (KOTACERDAS_LOG_FORMAT=json): fields, request ids, no personal data."""

import io
import json
import logging
import os
import re
import subprocess
import sys
from collections.abc import Iterator

import pytest
from django.conf import settings
from django.test import Client
from django.urls import reverse

from kotacerdas.ops.logging_json import JsonFormatter, RequestIdFilter
from kotacerdas.registry.models import Building, Household

PASAR_USANG = "13.74.02.1002"
HEAD_NAME = "Yusnidar Chaniago"
CHILD_NAME = "Fadli Rahmat Piliang"
HEAD_NIK = "1374025203800004"  # synthetic: female, 12 Mar 1980
CHILD_NIK = "1374021004100006"  # synthetic: male, 10 Apr 2010
KK_NUMBER = "1374021203200005"
PHONE = "081266612345"
ADDRESS = "Jl. Imam Bonjol No. 7"
PERSONAL_DATA = [HEAD_NAME, CHILD_NAME, HEAD_NIK, CHILD_NIK, KK_NUMBER, PHONE, ADDRESS]


@pytest.fixture
def json_log() -> Iterator[io.StringIO]:
    """Send every record that reaches the root logger through the JSON formatter.

    The loggers keep the levels the settings give them, as in production.
    Returns the stream the lines are written to.
    """
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter())
    handler.addFilter(RequestIdFilter())
    root = logging.getLogger()
    root.addHandler(handler)
    try:
        yield stream
    finally:
        root.removeHandler(handler)


def parse(stream: io.StringIO) -> list[dict]:
    return [json.loads(line) for line in stream.getvalue().splitlines()]


def test_line_has_documented_fields():
    record = logging.LogRecord(
        "kotacerdas.journal.worker",
        logging.WARNING,
        __file__,
        1,
        "worker job %s failed (%s in a row)",
        ("seal", 2),
        None,
    )
    record.job = "seal"
    RequestIdFilter().filter(record)

    line = json.loads(JsonFormatter().format(record))

    assert list(line)[:5] == ["time", "level", "logger", "message", "process"]
    assert line["level"] == "WARNING"
    assert line["logger"] == "kotacerdas.journal.worker"
    assert line["message"] == "worker job seal failed (2 in a row)"
    assert line["process"] == os.getpid()
    assert line["job"] == "seal"
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", line["time"])
    assert "request_id" not in line


def test_exception_is_one_line():
    try:
        raise ValueError("sealing stopped at entry 7")
    except ValueError:
        record = logging.LogRecord(
            "kotacerdas.test", logging.ERROR, __file__, 1, "failed", (), sys.exc_info()
        )

    text = JsonFormatter().format(record)

    assert "\n" not in text
    assert "ValueError: sealing stopped at entry 7" in json.loads(text)["exc_info"]


@pytest.mark.django_db
def test_request_id_reaches_log_lines(client, json_log):
    sent = client.get("/no-such-page/", headers={"x-request-id": "req-12345678"})
    generated = client.get("/no-such-page-either/")
    unsafe = client.get("/no-such-page-either/", headers={"x-request-id": "a b\nc"})

    lines = parse(json_log)
    not_found = [line for line in lines if line["message"].startswith("Not Found")]
    assert sent["X-Request-ID"] == "req-12345678"
    assert re.fullmatch(r"[0-9a-f]{32}", generated["X-Request-ID"])
    assert re.fullmatch(r"[0-9a-f]{32}", unsafe["X-Request-ID"])
    assert [line["request_id"] for line in not_found] == [
        "req-12345678",
        generated["X-Request-ID"],
        unsafe["X-Request-ID"],
    ]


def run_python(code: str, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", code],
        env={
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "kotacerdas.config.test_settings",
            **env,
        },
        capture_output=True,
        text=True,
        timeout=120,
    )


LOG_ONE_LINE = """
import logging
import django

django.setup()
logging.getLogger("kotacerdas.test").warning(
    "worker %s stopped", 7, extra={"job": "seal"}
)
"""


def test_setting_switches_to_json():
    result = run_python(LOG_ONE_LINE, KOTACERDAS_LOG_FORMAT="json")

    line = json.loads(result.stderr.strip().splitlines()[-1])
    assert result.returncode == 0
    assert line["message"] == "worker 7 stopped"
    assert line["logger"] == "kotacerdas.test"
    assert line["job"] == "seal"


def test_default_stays_plain_text():
    result = run_python(LOG_ONE_LINE, KOTACERDAS_LOG_FORMAT="")

    last = result.stderr.strip().splitlines()[-1]
    assert re.fullmatch(
        r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3} WARNING \d+ kotacerdas.test "
        r"worker 7 stopped",
        last,
    ), last


def test_unknown_log_format_rejected():
    result = run_python(LOG_ONE_LINE, KOTACERDAS_LOG_FORMAT="yaml")

    assert result.returncode != 0
    assert "KOTACERDAS_LOG_FORMAT='yaml' is invalid; use text or json." in result.stderr


def household_form() -> dict[str, str]:
    data = {
        "kk_number": KK_NUMBER,
        "members-TOTAL_FORMS": "2",
        "members-INITIAL_FORMS": "0",
        "members-MIN_NUM_FORMS": "0",
        "members-MAX_NUM_FORMS": "20",
    }
    members = [
        (HEAD_NAME, HEAD_NIK, "head", PHONE),
        (CHILD_NAME, CHILD_NIK, "child", ""),
    ]
    for index, (name, nik, relation, phone) in enumerate(members):
        data[f"members-{index}-full_name"] = name
        data[f"members-{index}-nik"] = nik
        data[f"members-{index}-relation"] = relation
        data[f"members-{index}-phone"] = phone
    return data


@pytest.mark.django_db
def test_logs_hold_no_personal_data(personas, json_log):
    officer = Client()
    officer.force_login(personas["registry_officer"])
    officer.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    building_form = {
        "kelurahan_code": PASAR_USANG,
        "rw": "4",
        "rt": "1",
        "street_address": ADDRESS,
        "use": "house",
        "lat": "-0.465300",
        "lng": "100.400800",
        "floors": "2",
        "floor_area_m2": "90",
        "pln_va": "1300",
        "status": "active",
    }

    officer.post(reverse("registry:building_create"), building_form)
    building = Building.objects.get()
    household_url = reverse(
        "registry:household_create", kwargs={"building_id": building.pk}
    )
    officer.post(household_url, household_form())
    officer.post(household_url, household_form())  # the same NIK and KK again
    officer.get(reverse("registry:building_list"), {"q": HEAD_NAME})
    Client().post(
        reverse("accounts:login"), {"username": HEAD_NAME, "password": HEAD_NIK}
    )
    officer.get(reverse("registry:building_detail", kwargs={"building_id": 999999}))

    lines = parse(json_log)
    assert Household.objects.count() == 1
    assert any(line["message"].startswith("Not Found") for line in lines)
    for line in json_log.getvalue().splitlines():
        for value in PERSONAL_DATA:
            assert value not in line, f"{value!r} appears in the log line {line}"
