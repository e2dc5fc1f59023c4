"""URLs of the exchange's HTTP binding (docs/exchange.md)."""

from django.urls import path

from . import views

urlpatterns = [
    path("messages", views.messages, name="exchange-messages"),
    path("batches", views.batches, name="exchange-batches"),
    path("directory", views.directory, name="exchange-directory"),
]
