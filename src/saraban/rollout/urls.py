"""Routes of the programme console, under ``/programme/``."""

from django.urls import path

from . import views, views_roadshows, views_support, views_survey

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
    path("roadshows/", views_roadshows.roadshows, name="roadshows"),
    path("support/", views_support.support, name="support"),
    path("funds/", views_support.funds, name="funds"),
    path("channels/", views_support.channels, name="channels"),
    path("report.pdf", views.report_file, {"fmt": "pdf"}, name="report_pdf"),
    path("report.xlsx", views.report_file, {"fmt": "xlsx"}, name="report_xlsx"),
    path("survey/<str:token>/", views.survey_form, name="survey"),
]
