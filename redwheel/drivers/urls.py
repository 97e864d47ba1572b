from django.urls import path

from redwheel.core.audiences import staff
from redwheel.drivers import views

app_name = "drivers"
staff_pages = [
    path("", views.driver_list, name="list"),
    path("<int:pk>/", views.driver_detail, name="detail"),
    path("<int:pk>/reveal/", views.pii_reveal, name="reveal"),
    path("<int:pk>/verify/", views.membership_verify, name="verify"),
    path("<int:pk>/reject/", views.membership_reject, name="reject"),
    path("<int:pk>/lapse/", views.membership_lapse, name="lapse"),
    path("<int:pk>/transfer/", views.membership_transfer, name="transfer"),
    path("<int:pk>/check-in/", views.membership_check_in, name="check_in"),
    path("<int:pk>/check-out/", views.membership_check_out, name="check_out"),
    path("<int:pk>/declare/", views.membership_declare, name="declare"),
    path("<int:pk>/contact-pairs/", views.contact_pair_add, name="contact_pair_add"),
    path("verification/", views.verification_queue, name="verification_queue"),
]
urlpatterns = [staff("drivers/", staff_pages)]
