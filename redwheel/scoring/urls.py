from django.urls import path

from redwheel.scoring import views

app_name = "scoring"
urlpatterns = [
    path("rules/", views.rules, name="rules"),
    path("me/", views.my_score, name="my_score"),
    path("me/points/", views.my_points, name="my_points"),
    path("staff/", views.staff_index, name="staff_index"),
    path("staff/drivers/<int:pk>/", views.staff_driver, name="staff_driver"),
    path("staff/drivers/<int:pk>/grant/", views.staff_grant, name="staff_grant"),
    path("staff/entries/<int:pk>/reverse/", views.staff_reverse, name="staff_reverse"),
]
