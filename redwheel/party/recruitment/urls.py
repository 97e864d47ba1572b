from django.urls import path

from redwheel.core.audiences import me, staff
from redwheel.party.recruitment import views, views_driver

app_name = "recruitment"
staff_pages = [
    path("", views.case_list, name="list"),
    path("registers.xlsx", views.registers_xlsx, name="registers_xlsx"),
    path("<int:pk>/", views.case_detail, name="detail"),
    path("<int:pk>/complete/", views.step_complete, name="complete"),
    path("<int:pk>/people/", views.people_set, name="people"),
    path("<int:pk>/restart/", views.case_restart, name="restart"),
    path("<int:pk>/cancel/", views.case_cancel, name="cancel"),
    path("materials/<int:pk>/", views.material, name="material"),
    path("versions/", views.version_list, name="versions"),
    path("versions/seed/", views.version_seed, name="version_seed"),
    path("versions/<int:pk>/", views.version_detail, name="version"),
    path("versions/<int:pk>/draft/", views.version_draft, name="version_draft"),
    path("versions/<int:pk>/publish/", views.version_publish, name="version_publish"),
    path("steps/<int:pk>/edit/", views.step_edit, name="step_edit"),
]
driver_pages = [
    path("", views_driver.my_case, name="my_case"),
    path("apply/", views_driver.apply, name="my_apply"),
    path("upload/", views_driver.my_upload, name="my_upload"),
    path("materials/<int:pk>/", views_driver.my_material, name="my_material"),
]
urlpatterns = [
    staff("party/recruitment/", staff_pages),
    me("party/recruitment/", driver_pages),
]
