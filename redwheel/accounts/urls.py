from django.urls import include, path

from redwheel.accounts import views
from redwheel.core.audiences import me

# Sign-in and the account under /accounts/; the driver's services and settings tabs under /me/.
account_pages = [
    path("login/", views.LoginView.as_view(), name="login"),
    path("logout/", views.LogoutView.as_view(), name="logout"),
    path("password/", views.password_change, name="password_change"),
    path("activate/", views.activate, name="activate"),
    path("activate/confirm/", views.activate_confirm, name="activate_confirm"),
    path("elderly-mode/", views.elderly_toggle, name="elderly_toggle"),
]
driver_pages = [
    path("services/", views.services_page, name="services"),
    path("settings/", views.settings_page, name="settings"),
]

app_name = "accounts"
urlpatterns = [path("accounts/", include(account_pages)), me("", driver_pages)]
