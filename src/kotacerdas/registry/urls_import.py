"""Pages for importing buildings and households from a spreadsheet."""

from django.urls import URLPattern, path

from kotacerdas.registry import import_views

urlpatterns: list[URLPattern] = [
    path("registry/import/", import_views.import_start, name="import"),
    path(
        "registry/import/template.<str:file_format>",
        import_views.import_template,
        name="import_template",
    ),
    path(
        "registry/import/<uuid:batch_id>/",
        import_views.import_batch,
        name="import_batch",
    ),
    path(
        "registry/import/<uuid:batch_id>/run/",
        import_views.import_run,
        name="import_run",
    ),
    path(
        "registry/import/<uuid:batch_id>/problems.<str:file_format>",
        import_views.import_problems,
        name="import_problems",
    ),
]
