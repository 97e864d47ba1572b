import re
from pathlib import Path

import polib
import pytest
from django.urls import reverse

import config.settings as project_settings
from redwheel import testing

pytestmark = pytest.mark.django_db
ROOT = Path(__file__).resolve().parents[2]  # the redwheel package
LOCALE = ROOT / "locale"


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


def test_every_message_in_the_chinese_catalogue_is_translated():
    catalogue = polib.pofile(str(LOCALE / "zh_Hans" / "LC_MESSAGES" / "django.po"))
    missing = [e.msgid for e in catalogue.untranslated_entries() + catalogue.fuzzy_entries()]
    assert missing == []


def test_translation_functions_keep_names_that_makemessages_extracts():
    """xgettext only knows `_`, `gettext_lazy` & co.: an alias such as `_lazy` would leave
    its strings out of the catalogue, untranslated, without any error."""
    alias = re.compile(r"import .*\b(?:n|p|np)?gettext(?:_lazy|_noop)? as (?!_\b)(\w+)")
    offenders = [
        f"{path.relative_to(ROOT)}: {match.group(0)}"
        for path in ROOT.rglob("*.py")
        for match in alias.finditer(path.read_text(encoding="utf-8"))
    ]
    assert offenders == []
