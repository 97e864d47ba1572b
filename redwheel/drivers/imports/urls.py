from django.urls import path

from redwheel.core.audiences import staff
from redwheel.drivers.imports import views

app_name = "imports"
staff_pages = [
    path("", views.job_list, name="list"),
    path("<int:pk>/", views.job_detail, name="detail"),
    path("<int:pk>/progress/", views.job_progress, name="progress"),
    path("<int:pk>/commit/", views.job_commit, name="commit"),
    path("template/<str:kind>.<str:fmt>", views.template_download, name="template"),
]
urlpatterns = [staff("imports/", staff_pages)]
