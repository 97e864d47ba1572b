import pytest
from django.urls import reverse

import config.settings as project_settings
from redwheel.core import testing

pytestmark = pytest.mark.django_db


def test_chinese_is_the_default_and_english_is_one_switch_away(client, settings):
    settings.LANGUAGE_CODE = project_settings.LANGUAGE_CODE
    assert settings.LANGUAGE_CODE == "zh-hans"
    page = client.get(reverse("accounts:login")).content.decode()
    assert "登录" in page and "手机号" in page

    client.post(reverse("set_language"), {"language": "en", "next": "/"})
    page = client.get(reverse("accounts:login")).content.decode()
    assert "Log in" in page


def test_domain_errors_speak_the_callers_language(client, city, settings):
    settings.LANGUAGE_CODE = project_settings.LANGUAGE_CODE
    client.force_login(testing.staff(city.root))
    response = client.get("/api/v1/drivers/999999")
    assert response.status_code == 404
    assert response.json()["message"] == "未找到。"
    english = client.get("/api/v1/drivers/999999", HTTP_ACCEPT_LANGUAGE="en")
    assert english.json()["message"] == "Not found."
