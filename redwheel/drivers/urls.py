from django.urls import path

from redwheel.drivers import views

app_name = "drivers"
urlpatterns = [
    path("drivers/", views.driver_list, name="list"),
    path("drivers/<int:pk>/", views.driver_detail, name="detail"),
    path("drivers/<int:pk>/reveal/", views.pii_reveal, name="reveal"),
    path("drivers/<int:pk>/verify/", views.membership_verify, name="verify"),
    path("drivers/<int:pk>/reject/", views.membership_reject, name="reject"),
    path("drivers/<int:pk>/lapse/", views.membership_lapse, name="lapse"),
    path("drivers/<int:pk>/transfer/", views.membership_transfer, name="transfer"),
    path("drivers/<int:pk>/check-in/", views.membership_check_in, name="check_in"),
    path("drivers/<int:pk>/check-out/", views.membership_check_out, name="check_out"),
    path("drivers/<int:pk>/declare/", views.membership_declare, name="declare"),
    path("drivers/<int:pk>/contact-pairs/", views.contact_pair_add, name="contact_pair_add"),
    path("verification/", views.verification_queue, name="verification_queue"),
]
