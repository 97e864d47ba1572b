app_name = "drivers"
urlpatterns = []
