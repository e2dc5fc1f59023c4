"""Routes of the web interface: the shell, registers and directory here; the workflow in ``urls_workflow``."""

from django.urls import include, path

from .views import auth, directory, ecms, home, language, mail, network, pki, registers, verify

urlpatterns = [
    path("verify", verify.verify, name="verify"),  # the address printed in the letters' QR codes
    path("verify/", verify.verify),
    path("pki/<str:name>", pki.crl, name="pki-crl"),  # CRLs this installation publishes (the demo root's)
    path("", home.home, name="home"),
    path("healthz", home.health, name="health"),
    path("accounts/login/", auth.SignInView.as_view(), name="login"),
    path("accounts/logout/", auth.SignOutView.as_view(), name="logout"),
    path("language/", language.switch_language, name="switch-language"),
    path("acting-organisation/", language.switch_organisation, name="switch-organisation"),
    path("registers/", registers.register_page, name="registers"),
    path("registers/export/", registers.register_export, name="register-export"),
    path("directory/", directory.tree, name="directory"),
    path("directory/import/", directory.import_csv, name="directory-import"),
    path("directory/export/<str:what>.csv", directory.export_csv, name="directory-export"),
    path("directory/<int:pk>/", directory.organisation_page, name="directory-organisation"),
    path("directory/<int:pk>/edit/", directory.edit_organisation, name="directory-edit"),
    path("certificates/", include("saraban.web.urls_certificates")),
    path("network/queue/", network.queue, name="network-queue"),
    path("network/queue/<int:pk>/send-again/", network.queue_send_again, name="network-send-again"),
    path("network/queue/<int:pk>/cancel/", network.queue_cancel, name="network-cancel"),
    path("network/peers/", network.peer_list, name="network-peers"),
    path("network/peers/<int:pk>/<str:action>/", network.peer_action, name="network-peer-action"),
    path("network/ecms/", ecms.ecms_page, name="network-ecms"),
    path("network/ecms/connections/<int:pk>/refresh/", ecms.refresh, name="network-ecms-refresh"),
    path("network/ecms/connections/<int:pk>/<str:action>/", ecms.switch, name="network-ecms-switch"),
    path("network/ecms/agencies/<int:pk>/<str:action>/", ecms.agency_action, name="network-ecms-agency"),
    path("network/ecms/dispatch/<int:pk>/resend/", ecms.dispatch_resend, name="network-ecms-resend"),
    path("network/ecms/dispatch/<int:pk>/dispute/", ecms.dispatch_dispute, name="network-ecms-dispute"),
    path("network/mail/", mail.mail_page, name="network-mail"),
    path("network/mail/accounts/<int:pk>/<str:action>/", mail.switch, name="network-mail-switch"),
    path("network/mail/outbound/<int:pk>/send-again/", mail.outbound_send_again, name="network-mail-send-again"),
    path("", include("saraban.web.urls_workflow")),
]
