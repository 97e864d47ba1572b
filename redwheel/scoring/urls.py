from django.urls import include, path

from redwheel.core.audiences import me, staff
from redwheel.scoring import views

app_name = "scoring"
# The published rule book is public (no sign-in), so it keeps a prefix of its own.
public_pages = [
    path("rules/", views.rules, name="rules"),
    path("no-compulsion/", views.no_compulsion, name="no_compulsion"),
]
driver_pages = [
    path("", views.my_score, name="my_score"),
    path("points/", views.my_points, name="my_points"),
]
staff_pages = [
    path("", views.staff_index, name="staff_index"),
    path("drivers/<int:pk>/", views.staff_driver, name="staff_driver"),
    path("drivers/<int:pk>/grant/", views.staff_grant, name="staff_grant"),
    path("entries/<int:pk>/reverse/", views.staff_reverse, name="staff_reverse"),
]
urlpatterns = [
    path("scoring/", include(public_pages)),
    me("score/", driver_pages),
    staff("scoring/", staff_pages),
]
