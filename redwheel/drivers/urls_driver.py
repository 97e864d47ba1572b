from django.urls import path

from redwheel.drivers import views_driver

app_name = "me"
urlpatterns = [
    path("", views_driver.home, name="home"),
    path("membership/", views_driver.membership, name="membership"),
    path("membership/declare/", views_driver.declare, name="declare"),
    path("membership/check-in/", views_driver.check_in, name="check_in"),
    path("membership/check-out/", views_driver.check_out, name="check_out"),
    path("badge/", views_driver.badge, name="badge"),
]
