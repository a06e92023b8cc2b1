from typing import Any

from django.db import migrations
from django.utils import translation


def add_materials(apps: Any, schema_editor: Any) -> None:
    from kotacerdas.waste.models import STANDARD_MATERIALS

    material = apps.get_model("waste", "Material")
    # Stored names are the Indonesian ones; pages show the reader's language.
    with translation.override("id"):
        for code, sipsn, group, label in STANDARD_MATERIALS:
            material.objects.get_or_create(
                code=code,
                defaults={
                    "name": str(label),
                    "sipsn_category": sipsn,
                    "sorting_group": group,
                },
            )


class Migration(migrations.Migration):
    dependencies = [("waste", "0001_initial")]
    operations = [migrations.RunPython(add_materials, migrations.RunPython.noop)]
