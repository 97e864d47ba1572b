from django.urls import path

from redwheel.exchange import views

app_name = "exchange"
urlpatterns = [
    path("", views.status, name="status"),
    path("rejections/", views.rejections, name="rejections"),
    path("unknown-drivers/", views.unknown_drivers, name="unknown_drivers"),
    path("comparison/", views.comparison, name="comparison"),
    path("comparison.xlsx", views.comparison_export, name="comparison_export"),
    path("metrics/", views.metric_list, name="metrics"),
    path("me/", views.my_metrics, name="my_metrics"),
]
