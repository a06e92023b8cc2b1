"""The intake's MQTT client id per installation, and which sensor helpers run."""

import logging
import stat
import time

import paho.mqtt.client as mqtt
import pytest
from paho.mqtt.enums import CallbackAPIVersion

from kotacerdas.waste.sensors_mqtt import (
    INSTALL_ID_FILE,
    Broker,
    SensorIntake,
    install_id,
    intake_client_id,
    sensor_commands,
)

from .conftest import broker_or_skip

PREFIX = "kotacerdas/padang-panjang/containers"


def test_install_id_stable(tmp_path):
    first = install_id(tmp_path)
    second = install_id(tmp_path)

    assert first == second
    assert len(first) == 32


def test_install_id_file_private(tmp_path):
    install_id(tmp_path / "var")

    mode = (tmp_path / "var" / INSTALL_ID_FILE).stat().st_mode

    assert stat.S_IMODE(mode) == 0o600


def test_install_ids_differ_per_var_dir(tmp_path):
    assert install_id(tmp_path / "one") != install_id(tmp_path / "two")


def test_empty_install_id_file_rejected(tmp_path):
    (tmp_path / INSTALL_ID_FILE).write_text("", encoding="ascii")

    with pytest.raises(ValueError, match="delete it to create a new id"):
        install_id(tmp_path)


def test_client_id_per_install_and_prefix():
    same = intake_client_id(PREFIX, "install-a")

    assert intake_client_id(PREFIX, "install-a") == same
    assert intake_client_id(PREFIX, "install-b") != same
    assert intake_client_id(f"{PREFIX}-2", "install-a") != same
    assert same.startswith("kotacerdas-intake-")


def test_client_id_follows_var_dir(settings, tmp_path):
    settings.VAR_DIR = tmp_path / "one"
    first = intake_client_id(PREFIX)
    settings.VAR_DIR = tmp_path / "two"
    second = intake_client_id(PREFIX)
    settings.VAR_DIR = tmp_path / "one"

    assert intake_client_id(PREFIX) == first
    assert first != second


def test_simulator_started_by_default(settings):
    settings.KOTACERDAS_SENSOR_SIM = True

    commands = sensor_commands()

    assert set(commands) == {"sensor intake", "sensor simulator"}
    assert commands["sensor simulator"][-1] == "sensor-sim"


def test_simulator_off_by_setting(settings):
    settings.KOTACERDAS_SENSOR_SIM = False

    commands = sensor_commands(speed=5)

    assert set(commands) == {"sensor intake"}
    assert commands["sensor intake"][-1] == "sensor-intake"


def test_simulator_speed_passed_on(settings):
    settings.KOTACERDAS_SENSOR_SIM = True

    simulator = sensor_commands(speed=2.5)["sensor simulator"]

    assert simulator[-2:] == ["--speed", "2.5"]


@pytest.mark.django_db(transaction=True)
def test_two_installs_share_broker(settings, tmp_path, caplog, topic_prefix):
    """Two installations with one prefix stay connected side by side."""
    host, port = broker_or_skip()
    intakes = []
    for name in ("one", "two"):
        settings.VAR_DIR = tmp_path / name
        intakes.append(SensorIntake(Broker(host, port), topic_prefix))
    caplog.set_level(logging.INFO, logger="kotacerdas.waste.sensors_mqtt")
    try:
        for intake in intakes:
            intake.start()
            assert intake.subscribed.wait(10), f"{intake.client_id} did not subscribe"
        # The broker would drop the older client within this time on an id clash.
        time.sleep(2)
        drops = [r for r in caplog.records if "disconnected from" in r.getMessage()]
        assert drops == []
        assert intakes[0].client_id != intakes[1].client_id
        assert all(intake.client.is_connected() for intake in intakes)
    finally:
        for intake in intakes:
            intake.stop()
            cleanup = mqtt.Client(
                CallbackAPIVersion.VERSION2,
                client_id=intake.client_id,
                clean_session=True,
            )
            cleanup.connect(host, port)
            cleanup.disconnect()
