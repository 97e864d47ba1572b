from django.urls import path

from redwheel.core.audiences import me, staff
from redwheel.party.meetings import views, views_driver, views_themes

app_name = "meetings"
staff_pages = [
    path("", views.meeting_list, name="list"),
    path("new/", views.meeting_new, name="new"),
    path("<int:pk>/", views.meeting_detail, name="detail"),
    path("<int:pk>/edit/", views.meeting_edit, name="edit"),
    path("<int:pk>/do/<slug:action>/", views.meeting_act, name="act"),
    path("<int:pk>/record/", views.meeting_record, name="record"),
    path("<int:pk>/attendance/", views.attendance_mark, name="attendance"),
    path("<int:pk>/files/", views.file_upload, name="file_upload"),
    path("<int:pk>/qr/", views.qr_page, name="qr"),
    path("<int:pk>/qr/code/", views.qr_code, name="qr_code"),
    path("files/<int:pk>/", views.file_download, name="file"),
    path("leave/<int:pk>/", views.leave_decide, name="leave_decide"),
    path("compliance/", views.compliance_view, name="compliance"),
    path("types/", views.type_list, name="types"),
    path("types/seed/", views.type_seed, name="types_seed"),
    path("types/<int:pk>/", views.type_edit, name="type_edit"),
    path("themes/", views_themes.theme_list, name="themes"),
    path("themes/new/", views_themes.theme_new, name="theme_new"),
    path("themes/<int:pk>/", views_themes.theme_detail, name="theme_detail"),
    path("themes/<int:pk>/edit/", views_themes.theme_edit, name="theme_edit"),
    path("themes/<int:pk>/adopt/", views_themes.theme_adopt, name="theme_adopt"),
    path("themes/files/<int:pk>/", views_themes.theme_file, name="theme_file"),
]
driver_pages = [
    path("", views_driver.my_list, name="my_list"),
    path("<int:pk>/", views_driver.my_detail, name="my_detail"),
    path("<int:pk>/leave/", views_driver.my_leave, name="my_leave"),
    path("<int:pk>/leave/withdraw/", views_driver.my_leave_withdraw, name="my_leave_withdraw"),
    path("<int:pk>/sign-in/", views_driver.sign_in, name="sign_in"),
    path("<int:pk>/files/<int:file_id>/", views_driver.my_file, name="my_file"),
    path("<int:pk>/materials/<int:file_id>/", views_driver.my_material, name="my_material"),
]
urlpatterns = [
    staff("party/meetings/", staff_pages),
    me("party/meetings/", driver_pages),
]
