"""The public page a phone opens from a container plate's QR code."""

from urllib.parse import urlsplit

from kotacerdas.waste import places
from kotacerdas.waste.container_plates import container_plate_url


def _container(tps):
    return places.save_container(
        places.ContainerInput(
            site_id=tps.pk, name="Bak pasar", volume_m3=1, max_load_kg=400
        )
    )


def _path(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.path}?{parts.query}"


def test_genuine_plate_names_container(client, tps):
    container = _container(tps)

    response = client.get(_path(container_plate_url(container)))

    assert response.status_code == 200
    page = response.content.decode()
    assert "Genuine container plate" in page
    assert "Bak pasar" in page
    assert tps.name in page


def test_forged_signature_is_named(client, tps):
    container = _container(tps)
    url = _path(container_plate_url(container))
    forged = url[:-4] + ("AAAA" if not url.endswith("AAAA") else "BBBB")

    response = client.get(forged)

    page = response.content.decode()
    assert "not signed by the city" in page
    assert "Bak pasar" not in page


def test_unknown_container_code_is_not_found(client, tps):
    container = _container(tps)
    url = _path(container_plate_url(container))
    container.delete()

    response = client.get(url)

    assert response.status_code == 404
    assert "No container has the plate code" in response.content.decode()


def test_collector_gets_route_link(signed_in, tps):
    container = _container(tps)

    page = signed_in("collector").get(_path(container_plate_url(container)))

    assert "/waste/collector/" in page.content.decode()
