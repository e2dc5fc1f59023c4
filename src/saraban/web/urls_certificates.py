"""Routes of the certificate registry pages (ใบรับรองอิเล็กทรอนิกส์), under ``/certificates/``."""

from django.urls import URLPattern

urlpatterns: list[URLPattern] = []
