"""URL configuration of Saraban."""

from django.urls import include, path

from saraban.api.main import api

urlpatterns = [
    path("api/", api.urls),
    path("exchange/", include("saraban.exchange.urls")),  # other deployments: signed messages in
    path("programme/", include("saraban.rollout.urls")),
    path("", include("saraban.web.urls")),
]

# A request refused while it was read (too large, too many fields): a bilingual page, 413 when too large.
handler400 = "saraban.web.views.errors.bad_request"
# Every other error page is bilingual too: the site's page with the menu for 403/404, a plain one for 500.
handler403 = "saraban.web.views.errors.permission_denied"
handler404 = "saraban.web.views.errors.not_found"
handler500 = "saraban.web.views.errors.server_error"
