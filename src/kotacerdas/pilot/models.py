"""Pilots: named sets of areas where chosen services run for a dated trial.

A service's city-wide scope (`ServiceScope`) says whether it runs everywhere
or only inside the areas of a pilot that is running and has it switched on.
A service without a scope row runs everywhere, so a city without pilots
behaves as before. Rows here change only through `pilot.services_api`, which
journals every change.
"""

from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _

from kotacerdas.pilot.services import Scope, Service


class Pilot(models.Model):
    """A trial of some services in some areas between two dates, both included.

    `services` lists `Service` codes. Ending a pilot early moves `ends_on`
    back and sets `ended_at`; the pilot, its areas and everything recorded
    during it stay.
    """

    slug = models.SlugField(_("slug"), max_length=40, unique=True)
    name = models.CharField(_("name"), max_length=120)
    starts_on = models.DateField(_("starts on"))
    ends_on = models.DateField(_("ends on"))
    services = models.JSONField(_("services"), default=list, blank=True)
    notes = models.TextField(_("notes"), blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    ended_at = models.DateTimeField(_("ended at"), null=True, blank=True)

    class Meta:
        ordering = ["-starts_on", "slug"]
        verbose_name = _("pilot")
        verbose_name_plural = _("pilots")
        permissions = [("manage_pilot", _("Can manage pilots and service scopes"))]
        constraints = [
            models.CheckConstraint(
                condition=Q(ends_on__gte=F("starts_on")),
                name="pilot_ends_after_start",
            ),
        ]

    def __str__(self) -> str:
        return self.name

    def service_labels(self) -> list[str]:
        return [str(Service(code).label) for code in self.services if code in Service]


class PilotArea(models.Model):
    """A kelurahan, one RW in it, or one RT in that RW, taking part in a pilot.

    `rw` blank means the whole kelurahan and `rt` blank the whole RW. RW and
    RT are three-digit strings ("003"), as `NeighbourhoodUnit` keeps them.
    """

    pilot = models.ForeignKey(
        Pilot,
        on_delete=models.CASCADE,
        related_name="areas",
        verbose_name=_("pilot"),
    )
    kelurahan_code = models.CharField(_("kelurahan code"), max_length=13)
    rw = models.CharField(_("RW"), max_length=3, blank=True)
    rt = models.CharField(_("RT"), max_length=3, blank=True)

    class Meta:
        ordering = ["pilot", "kelurahan_code", "rw", "rt"]
        verbose_name = _("pilot area")
        verbose_name_plural = _("pilot areas")
        constraints = [
            models.UniqueConstraint(
                fields=["pilot", "kelurahan_code", "rw", "rt"],
                name="pilot_area_unique",
            ),
            models.CheckConstraint(
                condition=Q(rw="") | Q(rw__regex=r"^[0-9]{3}$"),
                name="pilot_area_rw_3_digits",
            ),
            models.CheckConstraint(
                condition=Q(rt="") | (Q(rt__regex=r"^[0-9]{3}$") & ~Q(rw="")),
                name="pilot_area_rt_inside_rw",
            ),
        ]

    def __str__(self) -> str:
        if self.rt:
            return f"{self.kelurahan_code} RT {self.rt}/RW {self.rw}"
        if self.rw:
            return f"{self.kelurahan_code} RW {self.rw}"
        return self.kelurahan_code

    def covers(self, kelurahan_code: str, rw: str = "", rt: str = "") -> bool:
        """Return whether an address in that kelurahan, RW and RT lies inside."""
        if kelurahan_code != self.kelurahan_code:
            return False
        if self.rw and rw != self.rw:
            return False
        return not self.rt or rt == self.rt


class ServiceScope(models.Model):
    """The city-wide scope of one service. A missing row means everywhere."""

    service = models.CharField(
        _("service"), max_length=20, choices=Service.choices, unique=True
    )
    scope = models.CharField(
        _("scope"), max_length=20, choices=Scope.choices, default=Scope.EVERYWHERE
    )
    changed_at = models.DateTimeField(_("changed at"), auto_now=True)

    class Meta:
        ordering = ["service"]
        verbose_name = _("service scope")
        verbose_name_plural = _("service scopes")

    def __str__(self) -> str:
        return f"{self.service}: {self.scope}"


# Paper baseline figures for trial reports live in their own module.
from kotacerdas.pilot.models_baseline import BaselineFigure  # noqa: E402

__all__ = ["BaselineFigure", "Pilot", "PilotArea", "ServiceScope"]
