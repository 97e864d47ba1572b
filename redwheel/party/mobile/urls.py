from django.urls import path

from redwheel.core.audiences import me, staff
from redwheel.party.mobile import views

app_name = "mobile_members"
staff_pages: list = [
    path("", views.ledger, name="ledger"),
    path("<int:pk>/", views.member, name="member"),
    path("<int:pk>/entry/", views.entry_save, name="entry_save"),
    path("<int:pk>/transfer/", views.transfer, name="transfer"),
]
driver_pages: list = [
    path("", views.me, name="me"),
    path("check-in/", views.me_check_in, name="me_check_in"),
]
urlpatterns = [
    staff("party/mobile/", staff_pages),
    me("party/mobile/", driver_pages),
]
