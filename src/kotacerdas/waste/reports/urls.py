from django.urls import URLPattern, URLResolver

app_name = "wastereports"

urlpatterns: list[URLPattern | URLResolver] = []
