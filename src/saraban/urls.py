"""URL configuration of Saraban."""

from django.urls import include, path

urlpatterns = [
    path("", include("saraban.web.urls")),
]
