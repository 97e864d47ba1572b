from redwheel.core.audiences import me, staff

app_name = "mobile_members"
staff_pages: list = []
driver_pages: list = []
urlpatterns = [
    staff("party/mobile/", staff_pages),
    me("party/mobile/", driver_pages),
]
