from django.urls import path

from redwheel.core.audiences import staff
from redwheel.orgs import views, views_access

app_name = "orgs"
staff_pages = [
    path("units/", views.tree, name="tree"),
    path("units/<int:pk>/", views.unit_detail, name="unit_detail"),
    path("units/<int:pk>/children/", views.unit_child_create, name="unit_child_create"),
    path("units/<int:pk>/edit/", views_access.unit_edit, name="unit_edit"),
    path("units/<int:pk>/grants/", views_access.grant_add, name="grant_add"),
    path("grants/<int:pk>/revoke/", views_access.grant_revoke, name="grant_revoke"),
    path("platforms/", views_access.platform_list, name="platform_list"),
    path("platforms/new/", views_access.platform_create, name="platform_create"),
    path("platforms/<int:pk>/", views_access.platform_detail, name="platform_detail"),
    path("platforms/<int:pk>/settings/", views_access.platform_settings, name="platform_settings"),
    path("platforms/<int:pk>/partners/", views_access.platform_partners, name="platform_partners"),
    path("platforms/<int:pk>/tokens/", views_access.token_create, name="token_create"),
    path("tokens/<int:pk>/revoke/", views_access.token_revoke, name="token_revoke"),
    path("agreements/", views_access.agreement_list, name="agreements"),
    path("agreements/new/", views_access.agreement_create, name="agreement_create"),
]
urlpatterns = [staff("orgs/", staff_pages)]
