from django.urls import path

from redwheel.orgs import views

app_name = "orgs"
urlpatterns = [
    path("", views.dashboard, name="dashboard"),
    path("units/", views.tree, name="tree"),
    path("units/<int:pk>/", views.unit_detail, name="unit_detail"),
    path("units/<int:pk>/children/", views.unit_child_create, name="unit_child_create"),
    path("coverage/", views.coverage, name="coverage"),
]
