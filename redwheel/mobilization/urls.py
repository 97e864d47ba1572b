from django.urls import path

from redwheel.core.audiences import me, staff
from redwheel.mobilization import views, views_driver

app_name = "mobilization"
staff_pages = [
    path("", views.index, name="index"),
    path("fleets/", views.fleet_list, name="fleet_list"),
    path("fleets/<int:pk>/", views.fleet_detail, name="fleet_detail"),
    path("fleets/<int:pk>/members/", views.fleet_member_add, name="fleet_member_add"),
    path("fleet-members/<int:pk>/remove/", views.fleet_member_remove, name="fleet_member_remove"),
    path("fleet-members/<int:pk>/markers/", views.fleet_markers, name="fleet_markers"),
    path("hubs/", views.hub_list, name="hub_list"),
    path("hubs/<int:pk>/", views.hub_detail, name="hub_detail"),
    path("mobilisations/", views.mobilization_list, name="mobilization_list"),
    path("mobilisations/<int:pk>/", views.mobilization_detail, name="mobilization_detail"),
    path("mobilisations/<int:pk>/board/", views.mobilization_board, name="mobilization_board"),
    path("mobilisations/<int:pk>/call/", views.mobilization_call, name="mobilization_call"),
    path("mobilisations/<int:pk>/queue/", views.queue_add, name="queue_add"),
    path("queue/<int:pk>/leave/", views.queue_leave, name="queue_leave"),
    path("mobilisations/<int:pk>/rides/", views.ride_add, name="ride_add"),
    path("mobilisations/<int:pk>/close/", views.mobilization_close, name="mobilization_close"),
    path("mobilisations/<int:pk>/cancel/", views.mobilization_cancel, name="mobilization_cancel"),
    path(
        "mobilisations/<int:pk>/export.xlsx", views.mobilization_export, name="mobilization_export"
    ),
    path("volunteer/", views.opportunity_list, name="opportunity_list"),
    path("volunteer/<int:pk>/", views.opportunity_detail, name="opportunity_detail"),
    path("volunteer/<int:pk>/close/", views.opportunity_close, name="opportunity_close"),
    path("signups/<int:pk>/confirm/", views.signup_confirm, name="signup_confirm"),
    path("alerts/", views.alert_list, name="alert_list"),
    path("alerts/<int:pk>/", views.alert_detail, name="alert_detail"),
    path("alerts/<int:pk>/withdraw/", views.alert_withdraw, name="alert_withdraw"),
    path("statistics/", views.statistics, name="statistics"),
    path("drivers/<int:pk>/service/", views.driver_history, name="driver_history"),
]
driver_pages = [
    path("", views_driver.home, name="my_home"),
    path("calls/<int:pk>/", views_driver.call_detail, name="my_call"),
    path("calls/<int:pk>/respond/", views_driver.respond, name="my_respond"),
    path("fleets/", views_driver.fleets, name="my_fleets"),
    path("fleets/<int:pk>/pledge/", views_driver.pledge_sign, name="my_pledge_sign"),
    path("volunteer/", views_driver.opportunities, name="my_opportunities"),
    path("volunteer/<int:pk>/sign-up/", views_driver.sign_up, name="my_sign_up"),
    path("signups/<int:pk>/<str:action>/", views_driver.signup_action, name="my_signup_action"),
    path("alerts/<int:pk>/", views_driver.alert_detail, name="my_alert"),
    path("service/", views_driver.history, name="my_history"),
]
urlpatterns = [staff("mobilization/", staff_pages), me("mobilization/", driver_pages)]
