import pytest
from django.urls import reverse

from redwheel import testing

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("field", ["phone", "license_no"])
def test_searching_a_full_number_keeps_it_out_of_urls_and_the_page(client, city, field):
    wanted, _other = city.driver("王"), city.driver("李")
    client.force_login(testing.staff(city.root))
    number = getattr(wanted, field)

    response = client.post(reverse("drivers:list"), {"q": number})
    assert response.status_code == 302
    assert number not in response["Location"]

    page = client.get(response["Location"])
    body = page.content.decode()
    assert wanted.name in body
    assert _other.name not in body
    assert number not in body


def test_searching_by_name_still_works_through_the_form(client, city):
    wanted = city.driver("欧阳")
    client.force_login(testing.staff(city.root))
    response = client.post(reverse("drivers:list"), {"q": "欧阳"}, follow=True)
    assert wanted.name in response.content.decode()
