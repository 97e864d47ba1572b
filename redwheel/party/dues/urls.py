from django.urls import path

from redwheel.core.audiences import me, staff
from redwheel.party.dues import views, views_driver

app_name = "dues"
staff_pages = [
    path("", views.index, name="index"),
    path("members/<int:pk>/", views.member_detail, name="member"),
    path("members/<int:pk>/pay/", views.member_pay, name="member_pay"),
    path("members/<int:pk>/assess/", views.member_assess, name="member_assess"),
    path("members/<int:pk>/hardship/", views.member_hardship, name="member_hardship"),
    path("payments/<int:pk>/reverse/", views.payment_reverse, name="payment_reverse"),
    path("ledger/", views.ledger, name="ledger"),
    path("ledger.xlsx", views.ledger_xlsx, name="ledger_xlsx"),
    path("assessments/", views.assessment_list, name="assessments"),
    path("hardship/", views.hardship_list, name="hardship_list"),
    path("hardship/<int:pk>/", views.hardship_detail, name="hardship"),
    path("hardship/<int:pk>/agree/", views.hardship_agree, name="hardship_agree"),
    path("hardship/<int:pk>/approve/", views.hardship_approve, name="hardship_approve"),
    path("hardship/<int:pk>/refuse/", views.hardship_refuse, name="hardship_refuse"),
    path("rules/", views.rules, name="rules"),
    path("reminders/", views.reminder_log, name="reminders"),
]
driver_pages = [
    path("", views_driver.my_dues, name="my_dues"),
    path("income/", views_driver.my_income, name="my_income"),
    path("hardship/", views_driver.my_hardship, name="my_hardship"),
    path(
        "hardship/<int:pk>/withdraw/",
        views_driver.my_hardship_withdraw,
        name="my_hardship_withdraw",
    ),
]
urlpatterns = [
    staff("party/dues/", staff_pages),
    me("party/dues/", driver_pages),
]
