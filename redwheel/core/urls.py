from django.urls import path

from redwheel.core import views
from redwheel.core.audiences import STAFF

# The inbox is for everyone signed in (staff and drivers), so it has its own prefix.
app_name = "core"
urlpatterns = [
    path("inbox/", views.inbox, name="inbox"),
    path("inbox/<int:pk>/read/", views.inbox_read, name="inbox_read"),
    path("inbox/read-all/", views.inbox_read_all, name="inbox_read_all"),
    path(STAFF + "audit/", views.audit_log, name="audit_log"),
]
