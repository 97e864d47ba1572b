from django.urls import path

from redwheel.core.audiences import me
from redwheel.party import views

app_name = "party"
urlpatterns = [me("party/", [path("", views.me_index, name="me_index")])]
