"""Pages for data-subject requests and the unmasked NIK/KK access log."""

from django.urls import URLPattern, path

from kotacerdas.registry import privacy_views

urlpatterns: list[URLPattern] = [
    path("registry/privacy/", privacy_views.privacy_index, name="privacy_index"),
    path(
        "registry/privacy/members/<int:member_id>/",
        privacy_views.privacy_subject,
        name="privacy_subject",
    ),
    path(
        "registry/privacy/members/<int:member_id>/export.json",
        privacy_views.privacy_export,
        name="privacy_export",
    ),
    path(
        "registry/privacy/members/<int:member_id>/erase/",
        privacy_views.privacy_erase,
        name="privacy_erase",
    ),
    path(
        "registry/privacy/identity-views/",
        privacy_views.identity_view_log,
        name="identity_view_log",
    ),
]
