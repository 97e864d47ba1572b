from redwheel.core.audiences import me, staff

app_name = "meetings"
staff_pages: list = []
driver_pages: list = []
urlpatterns = [
    staff("party/meetings/", staff_pages),
    me("party/meetings/", driver_pages),
]
