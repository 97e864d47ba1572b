from django.urls import path

from redwheel.core.audiences import me, staff
from redwheel.party.evaluation import views

app_name = "evaluation"
staff_pages: list = [
    path("", views.round_list, name="rounds"),
    path("open/", views.round_open, name="open"),
    path("<int:pk>/", views.round_detail, name="round"),
    path("<int:pk>/start-voting/", views.round_start_voting, name="start_voting"),
    path("<int:pk>/close/", views.round_close, name="close"),
    path("<int:pk>/record/", views.round_record, name="record"),
    path("participants/<int:pk>/conclusion/", views.conclusion_set, name="conclusion"),
]
driver_pages: list = [
    path("", views.my_rounds, name="me"),
    path("<int:pk>/self-assessment/", views.my_self_assessment, name="self_assessment"),
    path("<int:pk>/ballot/", views.my_ballot, name="ballot"),
]
urlpatterns = [
    staff("party/evaluation/", staff_pages),
    me("party/evaluation/", driver_pages),
]
