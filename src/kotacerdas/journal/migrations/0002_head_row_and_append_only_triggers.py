"""Create the journal head row and the triggers that make journal tables append-only."""

from django.db import migrations

from kotacerdas.journal import append_only


def create(apps, schema_editor):
    apps.get_model("journal", "JournalHead").objects.get_or_create(
        id=1, defaults={"size": 0}
    )
    append_only.install(schema_editor.connection)


def drop(apps, schema_editor):
    append_only.remove(schema_editor.connection)


class Migration(migrations.Migration):
    dependencies = [("journal", "0001_initial")]
    operations = [migrations.RunPython(create, drop)]
