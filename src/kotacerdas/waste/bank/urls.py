from django.urls import URLPattern, URLResolver

app_name = "wastebank"

urlpatterns: list[URLPattern | URLResolver] = []
