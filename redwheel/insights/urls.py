from django.urls import path

from redwheel.core.audiences import STAFF, staff
from redwheel.insights import views

app_name = "insights"
urlpatterns = [
    path(STAFF, views.dashboard, name="dashboard"),  # the staff home
    staff("insights/", [path("coverage/", views.coverage, name="coverage")]),
]
