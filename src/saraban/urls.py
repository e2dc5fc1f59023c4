"""URL configuration of Saraban."""

from django.urls import include, path

from saraban.api.main import api

urlpatterns = [
    path("api/", api.urls),
    path("programme/", include("saraban.rollout.urls")),
    path("", include("saraban.web.urls")),
]
