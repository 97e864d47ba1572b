from django.urls import path

from redwheel.accounts import views

app_name = "accounts"
urlpatterns = [
    path("login/", views.LoginView.as_view(), name="login"),
    path("logout/", views.LogoutView.as_view(), name="logout"),
    path("password/", views.password_change, name="password_change"),
    path("activate/", views.activate, name="activate"),
    path("activate/confirm/", views.activate_confirm, name="activate_confirm"),
]
