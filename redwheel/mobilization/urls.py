app_name = "mobilization"
urlpatterns = []
