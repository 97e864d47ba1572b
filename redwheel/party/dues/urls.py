from redwheel.core.audiences import me, staff

app_name = "dues"
staff_pages: list = []
driver_pages: list = []
urlpatterns = [
    staff("party/dues/", staff_pages),
    me("party/dues/", driver_pages),
]
