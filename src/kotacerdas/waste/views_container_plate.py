"""What a phone's camera app opens from a container's QR plate (/p/<code>).

Anyone may open it: it says whether the plate is genuine and names the
container, its site and kelurahan, which are public places. A collector gets a
link to today's route, where the pickup is recorded.
"""

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.translation import gettext as _

from kotacerdas.registry.plates import ReadPlate, Verdict
from kotacerdas.waste.models import Container


def container_landing(request: HttpRequest, read: ReadPlate) -> HttpResponse:
    container = (
        Container.objects.filter(plate_code=read.code)
        .select_related("site", "kelurahan")
        .first()
    )
    if read.verdict == Verdict.FORGED:
        message = _(
            "This QR code is not signed by the city: the plate may be forged. "
            "Please report it to the city."
        )
    elif container is None:
        message = _("No container has the plate code %(code)s.") % {"code": read.code}
    elif not container.active:
        message = _("Genuine plate of a container that is no longer in use.")
    else:
        message = _("Genuine container plate, signed by the city.")
    genuine = read.verdict != Verdict.FORGED and container is not None
    context = {
        "message": message,
        "genuine": genuine and container is not None and container.active,
        "code": read.code,
        "container": container if genuine else None,
        "can_record": request.user.has_perm("waste.record_pickup"),
    }
    status = 404 if container is None else 200
    return render(request, "waste/container_plate_landing.html", context, status=status)
