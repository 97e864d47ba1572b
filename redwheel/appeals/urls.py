from django.urls import include, path

from redwheel.appeals import views
from redwheel.core.audiences import me, staff

app_name = "appeals"
staff_pages = [
    path("", views.case_list, name="list"),
    path("intake/", views.intake, name="intake"),
    path("accountability/", views.accountability, name="accountability"),
    path("accountability.xlsx", views.accountability_xlsx, name="accountability_xlsx"),
]
driver_pages = [
    path("", views.my_list, name="my_list"),
    path("new/", views.my_file, name="my_file"),
]
# A case's page, its steps and its attachments serve every party to the case: the driver who
# filed it, the staff handling it and the contact member it is assigned to (who may be a driver
# account), so they sit under the capability's own prefix rather than one audience's.
case_pages = [
    path("<int:pk>/", views.detail, name="detail"),
    path("<int:pk>/do/<slug:action>/", views.act, name="act"),
    path("attachments/<int:pk>/", views.attachment, name="attachment"),
]
urlpatterns = [
    staff("appeals/", staff_pages),
    me("appeals/", driver_pages),
    path("appeals/", include(case_pages)),
]
