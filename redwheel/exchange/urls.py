from django.urls import path

from redwheel.core.audiences import me, staff
from redwheel.exchange import views

app_name = "exchange"
staff_pages = [
    path("", views.status, name="status"),
    path("rejections/", views.rejections, name="rejections"),
    path("unknown-drivers/", views.unknown_drivers, name="unknown_drivers"),
    path("conflicts/", views.conflict_list, name="conflicts"),
    path("conflicts/<int:driver_id>/", views.conflict_detail, name="conflict_detail"),
    path("comparison/", views.comparison, name="comparison"),
    path("comparison.xlsx", views.comparison_export, name="comparison_export"),
    path("metrics/", views.metric_list, name="metrics"),
]
driver_pages = [path("", views.my_metrics, name="my_metrics")]
urlpatterns = [staff("exchange/", staff_pages), me("metrics/", driver_pages)]
