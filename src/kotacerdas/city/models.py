"""The city profile: the city itself and its administrative areas.

Codes are Kemendagri codes kept as strings in dotted form ("13.74.02.1006");
`compact_code` holds the same digits without dots so either form finds a row.
"""

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _


class City(models.Model):
    """A kota or kabupaten run by this installation, loaded from a profile file.

    `settings` holds the profile's tariffs, limits and map defaults as loaded;
    `profile_sha256` identifies the exact file version that was loaded.
    """

    slug = models.SlugField(_("slug"), unique=True)
    code = models.CharField(_("code"), max_length=13, unique=True)
    name = models.CharField(_("name"), max_length=100)
    province_code = models.CharField(_("province code"), max_length=2)
    province_name = models.CharField(_("province"), max_length=100)
    center_lat = models.DecimalField(
        _("map centre latitude"), max_digits=9, decimal_places=6
    )
    center_lng = models.DecimalField(
        _("map centre longitude"), max_digits=9, decimal_places=6
    )
    default_zoom = models.PositiveSmallIntegerField(_("default map zoom"), default=14)
    settings = models.JSONField(_("profile settings"), default=dict, blank=True)
    boundary = models.JSONField(_("boundary"), null=True, blank=True)
    profile_sha256 = models.CharField(_("profile SHA-256"), max_length=64)
    loaded_at = models.DateTimeField(_("loaded at"))

    class Meta:
        verbose_name = _("city")
        verbose_name_plural = _("cities")

    def __str__(self) -> str:
        return self.name


class Area(models.Model):
    """A kecamatan, kelurahan or desa of a city, with its boundary polygon."""

    class Level(models.TextChoices):
        KECAMATAN = "kecamatan", _("Kecamatan")
        KELURAHAN = "kelurahan", _("Kelurahan")
        DESA = "desa", _("Desa")

    city = models.ForeignKey(
        City, on_delete=models.PROTECT, related_name="areas", verbose_name=_("city")
    )
    parent = models.ForeignKey(
        "self",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="children",
        verbose_name=_("parent area"),
    )
    code = models.CharField(_("code"), max_length=13, unique=True)
    compact_code = models.CharField(_("compact code"), max_length=10, unique=True)
    name = models.CharField(_("name"), max_length=100)
    level = models.CharField(_("level"), max_length=10, choices=Level.choices)
    postal_code = models.CharField(_("postal code"), max_length=5, blank=True)
    centroid_lat = models.DecimalField(
        _("centroid latitude"), max_digits=9, decimal_places=6, null=True
    )
    centroid_lng = models.DecimalField(
        _("centroid longitude"), max_digits=9, decimal_places=6, null=True
    )
    area_ha = models.PositiveIntegerField(_("area (ha)"), null=True, blank=True)
    population = models.PositiveIntegerField(_("population"), null=True, blank=True)
    boundary = models.JSONField(_("boundary"), null=True, blank=True)

    class Meta:
        ordering = ["code"]
        verbose_name = _("administrative area")
        verbose_name_plural = _("administrative areas")
        constraints = [
            models.CheckConstraint(
                condition=Q(level="kecamatan") | Q(parent__isnull=False),
                name="area_village_has_parent",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_level_display()} {self.name}"


class NeighbourhoodUnit(models.Model):
    """An RW, or an RT inside an RW, under a kelurahan; created when first used.

    `rt` is empty for the RW row itself. Numbers are kept as three-digit
    strings ("003") the way kelurahan offices write them.
    """

    kelurahan = models.ForeignKey(
        Area,
        on_delete=models.PROTECT,
        related_name="units",
        verbose_name=_("kelurahan"),
    )
    rw = models.CharField(_("RW"), max_length=3)
    rt = models.CharField(_("RT"), max_length=3, blank=True)

    class Meta:
        ordering = ["kelurahan", "rw", "rt"]
        verbose_name = _("RT/RW unit")
        verbose_name_plural = _("RT/RW units")
        constraints = [
            models.UniqueConstraint(
                fields=["kelurahan", "rw", "rt"], name="unit_unique_per_kelurahan"
            ),
            models.CheckConstraint(
                condition=Q(rw__regex=r"^[0-9]{3}$"), name="unit_rw_3_digits"
            ),
            models.CheckConstraint(
                condition=Q(rt="") | Q(rt__regex=r"^[0-9]{3}$"), name="unit_rt_3_digits"
            ),
        ]

    def __str__(self) -> str:
        return f"RT {self.rt}/RW {self.rw}" if self.rt else f"RW {self.rw}"
