"""The one character rule (core.validators) and its use in Django forms."""

import pytest
from django import forms
from django.urls import reverse
from hypothesis import given
from hypothesis import strategies as st

from redwheel.core.errors import ValidationFailed
from redwheel.core.forms import AuditFilterForm, SafeTextMixin
from redwheel.core.validators import contains_unsafe_text, has_unsafe_text, reject_unsafe_text
from redwheel.orgs.models import OrgUnit

UNSAFE_MESSAGE = "The text contains a control character or an invalid character (such as NUL)."


def _unsafe(text: str) -> bool:
    """The rule spelled out character by character, independently of the regex."""
    return any((ord(c) < 0x20 and c not in "\t\n\r") or 0xD800 <= ord(c) <= 0xDFFF for c in text)


@given(st.text(st.characters(min_codepoint=0, max_codepoint=0xFFFF)))
def test_the_rule_refuses_exactly_c0_controls_and_lone_surrogates(text):
    assert has_unsafe_text(text) is _unsafe(text)
    if _unsafe(text):
        with pytest.raises(ValidationFailed) as caught:
            reject_unsafe_text(text)
        assert caught.value.code == "unsafe_text"
        assert str(caught.value.message) == UNSAFE_MESSAGE
    else:
        assert reject_unsafe_text(text) == text


@pytest.mark.parametrize(
    ("value", "unsafe"),
    [
        ("张三\t第一\n第二\r\n", False),
        ("emoji 😀 and DEL \x7f", False),
        ({"ok": ["fine", {"deep": "a\x00"}]}, True),
        ({"key\ud800": 1}, True),
        ([1, 2.5, None, True], False),
    ],
)
def test_nested_values_are_checked_keys_included(value, unsafe):
    assert contains_unsafe_text(value) is unsafe


class _Form(SafeTextMixin, forms.Form):
    title = forms.CharField(max_length=50)
    body = forms.CharField(widget=forms.Textarea, required=False)
    data = forms.JSONField(required=False)


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("title", "a\x01b"),
        ("title", "前\x1f后"),
        ("body", "line\x0bbreak"),
        ("data", '{"a": "\\u0000"}'),
    ],
)
def test_forms_with_the_mixin_give_a_field_error(field, value):
    form = _Form({"title": "ok", field: value})
    assert not form.is_valid()
    assert list(form.errors) == [field]
    assert form.errors.as_data()[field][0].code in {"unsafe_text", "null_characters_not_allowed"}


def test_forms_with_the_mixin_keep_tabs_and_newlines():
    form = _Form({"title": "a\tb", "body": "一\r\n二\n", "data": '{"a": "b\\n"}'})
    assert form.is_valid(), form.errors
    assert AuditFilterForm({"action": "membership.\x02"}).errors["action"] == [UNSAFE_MESSAGE]


@pytest.mark.django_db
@pytest.mark.parametrize("name", ["第二支部\x01", "第\x1b二支部", "\x00第二支部"])
def test_a_page_form_refuses_unsafe_text_and_creates_nothing(client, city, name):
    client.force_login(city.admin)
    before = OrgUnit.objects.count()
    response = client.post(
        reverse("orgs:unit_child_create", args=[city.committee_a.pk]),
        {"name": name, "kind": "branch", "branch_type": "regular", "region_code": "510107"},
    )
    assert response.status_code == 400
    assert response.context["form"].errors["name"]
    assert OrgUnit.objects.count() == before
