"""The one path from a service's refusal to a page: the middleware for what a view lets
through, `domain_errors` for what a view shows in place."""

import pytest
from django import forms
from django.contrib.messages import get_messages
from django.http import HttpResponse
from django.shortcuts import redirect
from django.urls import path

from config.urls import urlpatterns as site_urls
from redwheel import testing
from redwheel.core.errors import (
    Conflict,
    NotFound,
    PermissionDenied,
    RateLimited,
    Unauthorized,
    ValidationFailed,
)
from redwheel.core.forms import FormInvalid, domain_errors, require_valid, submit

RAISED = {
    "not_found": NotFound(),
    "denied": PermissionDenied("Not yours."),
    "conflict": Conflict("Already there."),
    "limited": RateLimited("Slow down.", retry_after=30),
    "login": Unauthorized(),
}


def raising(request, name):
    raise RAISED[name]


def flashing(request, name):
    with domain_errors(request):
        raise RAISED[name]
    return redirect("/after/")


class PhoneForm(forms.Form):
    phone = forms.CharField()
    note = forms.CharField(required=False)


def form_page(request, name):
    form = PhoneForm(request.POST)
    with domain_errors(form=form) as caught:
        require_valid(form)
        raise RAISED[name] if name in RAISED else ValidationFailed("Bad.", code=name)
    errors = {k: list(v) for k, v in form.errors.items()}
    return HttpResponse(repr(errors), status=caught.status)


urlpatterns = [
    path("_t/raise/<str:name>/", raising),
    path("_t/flash/<str:name>/", flashing),
    path("_t/form/<str:name>/", form_page),
    *site_urls,
]

pytestmark = [pytest.mark.django_db, pytest.mark.urls(__name__)]


@pytest.fixture
def signed_in(client):
    client.force_login(testing.user())
    return client


def test_out_of_scope_is_the_plain_404_page(signed_in):
    assert signed_in.get("/_t/raise/not_found/").status_code == 404
    # Not caught in place either: a 404 is never a message.
    response = signed_in.post("/_t/flash/not_found/")
    assert response.status_code == 404
    assert not list(get_messages(response.wsgi_request))


@pytest.mark.parametrize(
    ("name", "status", "message"),
    [("denied", 403, "Not yours."), ("conflict", 409, "Already there.")],
)
def test_other_errors_show_their_message_with_their_status(signed_in, name, status, message):
    response = signed_in.get(f"/_t/raise/{name}/", HTTP_REFERER="http://testserver/staff/x/")
    assert response.status_code == status
    assert message in response.content.decode()
    assert response.context["back"] == "http://testserver/staff/x/"


def test_a_foreign_referer_is_never_offered_as_the_way_back(signed_in):
    response = signed_in.get("/_t/raise/conflict/", HTTP_REFERER="https://evil.example/")
    assert response.context["back"] == "/"


def test_the_errors_headers_are_sent(signed_in):
    response = signed_in.get("/_t/raise/limited/")
    assert response.status_code == 429
    assert response["Retry-After"] == "30"


def test_htmx_gets_only_the_fragment(signed_in):
    response = signed_in.get("/_t/raise/conflict/", HTTP_HX_REQUEST="true")
    assert response.status_code == 409
    assert "<html" not in response.content.decode()
    assert "Already there." in response.content.decode()


def test_no_login_goes_to_the_login_page(client):
    response = client.get("/_t/raise/login/")
    assert response.status_code == 302
    assert "next=/_t/raise/login/" in response["Location"]


def test_an_action_post_flashes_the_message_and_goes_on(signed_in):
    response = signed_in.post("/_t/flash/conflict/")
    assert response.status_code == 302 and response["Location"] == "/after/"
    assert [str(m) for m in get_messages(response.wsgi_request)] == ["Already there."]


def test_a_refusal_lands_on_the_field_its_code_names(signed_in):
    response = signed_in.post("/_t/form/bad_phone/", {"phone": "1"})
    assert response.status_code == 400
    assert response.content.decode() == repr({"phone": ["Bad."]})


def test_a_refusal_naming_no_field_is_form_wide(signed_in):
    response = signed_in.post("/_t/form/conflict/", {"phone": "1"})
    assert response.status_code == 409
    assert response.content.decode() == repr({"__all__": ["Already there."]})


def test_an_invalid_form_keeps_its_own_errors_once(signed_in):
    response = signed_in.post("/_t/form/conflict/", {})
    assert response.status_code == 400
    assert response.content.decode() == repr({"phone": ["This field is required."]})


def test_form_invalid_carries_the_first_error_and_all_details():
    form = PhoneForm({})
    with pytest.raises(FormInvalid) as raised:
        require_valid(form)
    assert raised.value.message == "This field is required."
    assert raised.value.details["phone"][0]["code"] == "required"
    assert require_valid(PhoneForm({"phone": "1"}))["phone"] == "1"


def test_submit_returns_the_result_or_none_with_the_error_on_the_form():
    form = PhoneForm({"phone": "1"})
    assert form.is_valid()
    assert submit(form, lambda: 7) == 7
    assert submit(form, lambda: (_ for _ in ()).throw(Conflict("No."))) is None
    assert form.errors["__all__"] == ["No."]
    with pytest.raises(NotFound):
        submit(form, lambda: (_ for _ in ()).throw(NotFound()))


def test_caught_is_falsy_when_the_block_succeeds():
    with domain_errors() as caught:
        pass
    assert not caught and caught.status == 200
