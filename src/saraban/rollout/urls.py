"""Routes of the programme console, under ``/programme/``."""

from django.urls import path

from . import views, views_survey

app_name = "rollout"
urlpatterns = [
    path("", views.dashboard, name="dashboard"),
    path("groups/", views.groups, name="groups"),
    path("certificates/", views.certificates, name="certificates"),
    path("outreach/", views.outreach, name="outreach"),
    path("agencies/<int:pk>/", views.agency, name="agency"),
    path("map.svg", views.map_svg, name="map"),
    path("report/", views.report_page, name="report"),
    path("survey-editor/", views_survey.survey_editor, name="survey_editor"),
    path("report.pdf", views.report_file, {"fmt": "pdf"}, name="report_pdf"),
    path("report.xlsx", views.report_file, {"fmt": "xlsx"}, name="report_xlsx"),
    path("survey/<str:token>/", views.survey_form, name="survey"),
]
