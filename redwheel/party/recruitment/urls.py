from redwheel.core.audiences import me, staff

app_name = "recruitment"
staff_pages: list = []
driver_pages: list = []
urlpatterns = [
    staff("party/recruitment/", staff_pages),
    me("party/recruitment/", driver_pages),
]
