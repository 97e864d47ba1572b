from django.urls import path

from redwheel.appeals import views

app_name = "appeals"
urlpatterns = [
    path("", views.case_list, name="list"),
    path("intake/", views.intake, name="intake"),
    path("accountability/", views.accountability, name="accountability"),
    path("accountability.xlsx", views.accountability_xlsx, name="accountability_xlsx"),
    path("me/", views.my_list, name="my_list"),
    path("me/new/", views.my_file, name="my_file"),
    path("<int:pk>/", views.detail, name="detail"),
    path("<int:pk>/do/<slug:action>/", views.act, name="act"),
    path("attachments/<int:pk>/", views.attachment, name="attachment"),
]
