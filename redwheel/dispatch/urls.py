from django.urls import path

from redwheel.core.audiences import staff
from redwheel.dispatch import views

app_name = "dispatch"
staff_pages = [
    path("", views.run_list, name="index"),
    path("runs/", views.run_list, name="run_list"),
    path("runs/new/", views.run_create, name="run_create"),
    path("runs/<int:pk>/", views.run_detail, name="run_detail"),
    path("runs/<int:pk>/progress/", views.run_progress, name="run_progress"),
    path("runs/<int:pk>/export.json", views.run_export_json, name="run_export_json"),
    path("runs/<int:pk>/export.xlsx", views.run_export_xlsx, name="run_export_xlsx"),
    path("sizing/", views.sizing_list, name="sizing_list"),
    path("sizing/new/", views.sizing_create, name="sizing_create"),
    path("sizing/<int:pk>/", views.sizing_detail, name="sizing_detail"),
    path("sizing/<int:pk>/progress/", views.sizing_progress, name="sizing_progress"),
    path("sizing/<int:pk>/sizing.json", views.sizing_export_json, name="sizing_export_json"),
    path("rules/", views.rule_set_list, name="rule_set_list"),
    path("rules/new/", views.rule_set_create, name="rule_set_create"),
    path("rules/<int:pk>/", views.rule_set_detail, name="rule_set_detail"),
    path("rules/<int:pk>/edit/", views.rule_set_edit, name="rule_set_edit"),
    path("rules/<int:pk>/publish/", views.rule_set_publish, name="rule_set_publish"),
    path("rules/<int:pk>/new-version/", views.rule_set_new_version, name="rule_set_new_version"),
    path("rules/<int:pk>/rules.json", views.rule_set_json, name="rule_set_json"),
]
urlpatterns = [staff("sandbox/", staff_pages)]
