"""Routes of the correspondence workflow pages (owned by the workflow pages)."""

urlpatterns: list = []
