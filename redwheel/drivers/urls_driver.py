from django.urls import path

from redwheel.core.audiences import ME
from redwheel.drivers import views_driver

# The driver's home and membership are the root of /me/; other capabilities mount their own
# pages under /me/<capability>/.
app_name = "me"
urlpatterns = [
    path(ME, views_driver.home, name="home"),
    path(ME + "membership/", views_driver.membership, name="membership"),
    path(ME + "membership/declare/", views_driver.declare, name="declare"),
    path(ME + "membership/check-in/", views_driver.check_in, name="check_in"),
    path(ME + "membership/check-out/", views_driver.check_out, name="check_out"),
    path(ME + "badge/", views_driver.badge, name="badge"),
]
