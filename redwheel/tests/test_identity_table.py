"""One table of real-world identity numbers, run through every path that takes one: the kernel
(forms, roster import and the API call `clean_identity_number`), the exchange validator, and a
baseInfoDriver stored through the exchange (which creates the driver via the drivers services)."""

from datetime import date

import pytest

from redwheel.core.errors import ValidationFailed
from redwheel.core.validators import clean_identity_number
from redwheel.exchange.tests.examples import example
from redwheel.exchange.validation import validate_batch

WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)


def with_check(body: str) -> str:
    """The check character, computed here by hand (GB 11643), not by the code under test."""
    return body + "10X98765432"[sum(int(c) * w for c, w in zip(body, WEIGHTS, strict=True)) % 11]


def wrong_check(body: str) -> str:
    right = with_check(body)[-1]
    return body + ("0" if right != "0" else "1")


FUTURE = date.today().replace(year=date.today().year + 1)

# (case, number, kernel code or None when valid)
TABLE = [
    ("current code", with_check("51010719900101771"), None),
    ("county created 1983, holder born 1975", with_check("36060219750612002"), None),
    ("county created 1990, holder born 1985", with_check("51010719850301003"), None),
    ("demo unknown driver: 510108 (1990-) born 1985", with_check("51010819850102800"), None),
    ("retired code 110103 (崇文区, -2010)", with_check("11010319800101004"), None),
    ("retired code 110104 (宣武区, -2010), born after", with_check("11010420150101005"), None),
    ("lower-case x", with_check("11010519491231002").lower(), None),
    ("wrong checksum", wrong_check("51010719900101771"), "bad_checksum"),
    ("19990230 is no date", with_check("51010719990230001"), "bad_birth_date"),
    ("month 13", with_check("51010719901301001"), "bad_birth_date"),
    ("born in the future", with_check(f"510107{FUTURE:%Y%m%d}001"), "bad_birth_date"),
    ("born before 1900", with_check("51010718991231001"), "bad_birth_date"),
    ("region of no era", with_check("99999919900101001"), "bad_id_region"),
    ("17 characters", "51010719900101771", "bad_length"),
    ("letter inside", "5101071990A101771X", "bad_format"),
    ("full-width digits", "５１０１０７１９９００１０１７７１X", "bad_format"),
]
IDS = [case for case, _, _ in TABLE]


@pytest.mark.parametrize(("case", "number", "code"), TABLE, ids=IDS)
def test_kernel(case, number, code):
    if code is None:
        assert clean_identity_number(number) == number.upper()
    else:
        with pytest.raises(ValidationFailed) as caught:
            clean_identity_number(number)
        assert caught.value.code == code


@pytest.mark.parametrize(("case", "number", "code"), TABLE, ids=IDS)
def test_exchange_validator(case, number, code):
    record = example("operateLogin", "PA1") | {"LicenseId": number}
    valid, rejected = validate_batch("operateLogin", [record], "PA1")
    if code is None:
        assert len(valid) == 1 and not rejected
    else:
        assert [(r["field"], r["code"]) for r in rejected] == [("LicenseId", "bad_license")]


@pytest.mark.django_db
@pytest.mark.parametrize(("case", "number", "code"), TABLE, ids=IDS)
def test_exchange_stores_the_driver(case, number, code, city):
    from redwheel.core import crypto
    from redwheel.drivers.models import Driver
    from redwheel.exchange.tests.test_ingest_records import push

    platform = city.platform_a
    record = example("baseInfoDriver", platform.company_id) | {"LicenseId": number}
    result = push(platform, "baseInfoDriver", [record])
    if code is None:
        assert (result.accepted, result.rejected) == (1, 0), result.rejections
        index = crypto.blind_index(number.upper())
        assert Driver.objects.filter(license_index=index).exists()
    else:
        assert [r["code"] for r in result.rejections] == ["bad_license"]
