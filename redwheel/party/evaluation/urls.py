from redwheel.core.audiences import me, staff

app_name = "evaluation"
staff_pages: list = []
driver_pages: list = []
urlpatterns = [
    staff("party/evaluation/", staff_pages),
    me("party/evaluation/", driver_pages),
]
