"""The record types of the regulator exchange format, declared field by field.

Each record type is a dict `field name → Field(kind, required, ...)`, written with the format's
own PascalCase names (see /docs/exchange.md and the reference). `validation.py` compiles these
specs once into per-field checkers; `services.py` maps the cleaned values onto the facts.

Fields the format defines but RedWheel does not use may still be sent: they are ignored unless
listed here, in which case they are checked (a wrong value rejects the record even when the
field is optional, because it usually means the feed is mis-mapped).
"""

from dataclasses import dataclass


@dataclass(frozen=True)
class Field:
    """How one field is checked.

    kind: str | int | num | money | time14 | date8 | month6 | hhmm | unix | lng | lat | code |
          license | phone | plate | region | company | vin

    Whatever the kind, a text value holding NUL, another C0 control character or a lone
    surrogate rejects the record with `unsafe_text` (the rule is `core.validators`').
    """

    kind: str
    required: bool = False
    max_len: int = 0  # str
    lo: float | None = None  # int / num / money
    hi: float | None = None
    choices: tuple = ()  # code


def req(kind: str, **kw) -> Field:
    return Field(kind, required=True, **kw)


def opt(kind: str, **kw) -> Field:
    return Field(kind, required=False, **kw)


def s(n: int, required: bool = False) -> Field:
    return Field("str", required=required, max_len=n)


BOOL01 = (0, 1)
FLAG = opt("code", choices=(1, 2, 3))
STATE = opt("code", choices=(0, 1))
ENCRYPT = opt("code", choices=(0, 1, 2, 3, 4))
COMMERCIAL_TYPE = opt("code", choices=(1, 2, 3))
COMPANY = req("company")
ADDRESS = opt("region")
COUNT = req("int", lo=0, hi=10_000_000)
KM = opt("num", lo=0, hi=100_000)
SECONDS = opt("int", lo=0, hi=10_000_000)
MONEY = opt("money", lo=0, hi=10_000_000)
ORDER_ID = s(64, required=True)
VEHICLE_NO = s(10)

SPECS: dict[str, dict[str, Field]] = {
    # Base data ---------------------------------------------------------------------------
    "baseInfoDriver": {
        "CompanyId": COMPANY,
        "Address": ADDRESS,
        "DriverName": s(60, required=True),
        "DriverPhone": req("phone"),
        "DriverGender": s(8),
        "DriverBirthday": opt("date8"),
        "DriverNation": s(20),
        "DriverContactAddress": s(200),
        "LicenseId": req("license"),
        "GetDriverLicenseDate": opt("date8"),
        "DriverLicenseOn": opt("date8"),
        "DriverLicenseOff": opt("date8"),
        "TaxiDriver": opt("code", choices=BOOL01),
        "CertificateNo": s(32),
        "NetworkCarIssueOrganization": s(100),
        "NetworkCarIssueDate": opt("date8"),
        "GetNetworkCarProofDate": opt("date8"),
        "NetworkCarProofOn": opt("date8"),
        "NetworkCarProofOff": opt("date8"),
        "RegisterDate": opt("date8"),
        "FullTimeDriver": opt("code", choices=BOOL01),
        "InDriverBlacklist": opt("code", choices=BOOL01),
        "CommercialType": COMMERCIAL_TYPE,
        "ContractCompany": s(100),
        "ContractOn": opt("date8"),
        "ContractOff": opt("date8"),
        "EmergencyContact": s(60),
        "EmergencyContactPhone": s(32),
        "State": STATE,
        "Flag": FLAG,
        "UpdateTime": opt("time14"),
    },
    "baseInfoVehicle": {
        "CompanyId": COMPANY,
        "Address": ADDRESS,
        "VehicleNo": req("plate"),
        "PlateColor": s(16),
        "Seats": opt("int", lo=1, hi=60),
        "Brand": s(40),
        "Model": s(40),
        "VehicleType": s(40),
        "OwnerName": s(100),
        "VehicleColor": s(16),
        "VIN": opt("vin"),
        "FuelType": s(16),
        "Certificate": s(32),
        "TransArea": s(100),
        "TransDateStart": opt("date8"),
        "TransDateStop": opt("date8"),
        "CheckState": s(16),
        "RegisterDate": opt("date8"),
        "CommercialType": COMMERCIAL_TYPE,
        "FareType": s(32),
        "State": STATE,
        "Flag": FLAG,
        "UpdateTime": opt("time14"),
    },
    "baseInfoDriverStat": {
        "CompanyId": COMPANY,
        "Address": ADDRESS,
        "LicenseId": req("license"),
        "Cycle": req("month6"),
        "OrderCount": COUNT,
        "TrafficViolationCount": COUNT,
        "ComplainedCount": COUNT,
        "Flag": FLAG,
        "UpdateTime": opt("time14"),
    },
    "baseInfoDriverEducate": {
        "CompanyId": COMPANY,
        "Address": ADDRESS,
        "LicenseId": req("license"),
        "CourseName": s(150, required=True),
        "CourseDate": req("date8"),
        "StartTime": opt("hhmm"),
        "StopTime": opt("hhmm"),
        "Duration": req("int", lo=0, hi=100_000),
        "Flag": FLAG,
        "UpdateTime": opt("time14"),
    },
    # Orders ------------------------------------------------------------------------------
    "orderCreate": {
        "CompanyId": COMPANY,
        "Address": ADDRESS,
        "OrderId": ORDER_ID,
        "DepartTime": opt("time14"),
        "OrderTime": req("time14"),
        "PassengerNote": s(200),
        "Departure": s(200),
        "DepLongitude": opt("lng"),
        "DepLatitude": opt("lat"),
        "Destination": s(200),
        "DestLongitude": opt("lng"),
        "DestLatitude": opt("lat"),
        "Encrypt": ENCRYPT,
        "FareType": s(32),
    },
    "orderMatch": {
        "CompanyId": COMPANY,
        "Address": ADDRESS,
        "OrderId": ORDER_ID,
        "Longitude": opt("lng"),
        "Latitude": opt("lat"),
        "Encrypt": ENCRYPT,
        "LicenseId": req("license"),
        "DriverPhone": s(32),
        "VehicleNo": VEHICLE_NO,
        "DistributeTime": req("time14"),
    },
    "orderCancel": {
        "CompanyId": COMPANY,
        "Address": ADDRESS,
        "OrderId": ORDER_ID,
        "OrderTime": opt("time14"),
        "CancelTime": req("time14"),
        "Operator": opt("code", choices=(1, 2, 3)),
        "CancelTypeCode": opt("code", choices=(1, 2, 3, 4, 5)),
        "CancelReason": s(200),
    },
    # Operations --------------------------------------------------------------------------
    "operateLogin": {
        "CompanyId": COMPANY,
        "LicenseId": req("license"),
        "VehicleNo": VEHICLE_NO,
        "LoginTime": req("time14"),
        "Longitude": opt("lng"),
        "Latitude": opt("lat"),
        "Encrypt": ENCRYPT,
    },
    "operateLogout": {
        "CompanyId": COMPANY,
        "LicenseId": req("license"),
        "VehicleNo": VEHICLE_NO,
        "LogoutTime": req("time14"),
        "Longitude": opt("lng"),
        "Latitude": opt("lat"),
        "Encrypt": ENCRYPT,
    },
    "operateDepart": {
        "CompanyId": COMPANY,
        "OrderId": ORDER_ID,
        "LicenseId": req("license"),
        "FareType": s(32),
        "VehicleNo": VEHICLE_NO,
        "DepLongitude": opt("lng"),
        "DepLatitude": opt("lat"),
        "Encrypt": ENCRYPT,
        "DepTime": req("time14"),
        "WaitMile": KM,
        "WaitTime": SECONDS,
    },
    "operateArrive": {
        "CompanyId": COMPANY,
        "OrderId": ORDER_ID,
        "DestLongitude": opt("lng"),
        "DestLatitude": opt("lat"),
        "Encrypt": ENCRYPT,
        "DestTime": req("time14"),
        "DriveMile": KM,
        "DriveTime": SECONDS,
    },
    "operatePay": {
        "CompanyId": COMPANY,
        "OrderId": ORDER_ID,
        "OnArea": ADDRESS,
        "DriverName": s(60),
        "LicenseId": req("license"),
        "FareType": s(32),
        "VehicleNo": VEHICLE_NO,
        "BookDepTime": opt("time14"),
        "WaitTime": SECONDS,
        "DepLongitude": opt("lng"),
        "DepLatitude": opt("lat"),
        "DepArea": s(200),
        "DepTime": opt("time14"),
        "DestLongitude": opt("lng"),
        "DestLatitude": opt("lat"),
        "DestArea": s(200),
        "DestTime": opt("time14"),
        "BookModel": s(40),
        "Model": s(40),
        "DriveMile": KM,
        "DriveTime": SECONDS,
        "WaitMile": KM,
        "FactPrice": req("money", lo=0, hi=10_000_000),
        "Price": MONEY,
        "CashPrice": MONEY,
        "LineName": s(100),
        "LinePrice": MONEY,
        "BenfitPrice": MONEY,
        "BookTip": MONEY,
        "PassengerTip": MONEY,
        "PeakUpPrice": MONEY,
        "NightUpPrice": MONEY,
        "FarUpPrice": MONEY,
        "OtherUpPrice": MONEY,
        "PayState": opt("code", choices=(0, 1, 2)),
        "PayTime": opt("time14"),
        "OrderMatchTime": opt("time14"),
        "InvoiceStatus": s(16),
    },
    # Positions ---------------------------------------------------------------------------
    "positionDriver": {
        "CompanyId": COMPANY,
        "LicenseId": req("license"),
        "DriverRegionCode": opt("region"),
        "VehicleNo": VEHICLE_NO,
        "PositionTime": req("unix"),
        "Longitude": req("lng"),
        "Latitude": req("lat"),
        "Encrypt": req("code", choices=(0, 1, 2, 3, 4)),
        "Direction": opt("int", lo=0, hi=359),
        "Elevation": opt("int", lo=-1000, hi=10_000),
        "Speed": opt("num", lo=0, hi=500),
        "BizStatus": opt("code", choices=(1, 2, 3, 4)),
        "OrderId": s(64),
    },
    # Service quality ---------------------------------------------------------------------
    "ratedPassenger": {
        "CompanyId": COMPANY,
        "OrderId": ORDER_ID,
        "EvaluateTime": req("time14"),
        "ServiceScore": req("int", lo=1, hi=5),
        "DriverScore": opt("int", lo=1, hi=5),
        "VehicleScore": opt("int", lo=1, hi=5),
        "Detail": s(500),
    },
    "ratedPassengerComplaint": {
        "CompanyId": COMPANY,
        "OrderId": ORDER_ID,
        "ComplaintTime": req("time14"),
        "Detail": s(500),
        "Result": s(500),
    },
    "ratedDriverPunish": {
        "CompanyId": COMPANY,
        "LicenseId": req("license"),
        "PunishTime": req("time14"),
        "PunishReason": s(300),
        "PunishResult": s(300),
    },
    "ratedDriver": {
        "CompanyId": COMPANY,
        "LicenseId": req("license"),
        "Level": req("int", lo=1, hi=5),
        "TestDate": req("date8"),
        "TestDepartment": s(100),
    },
}

RECORD_TYPES: tuple[str, ...] = tuple(SPECS)

# Coordinate pairs per record type: (longitude field, latitude field). Both or neither.
COORDINATE_PAIRS: dict[str, tuple[tuple[str, str], ...]] = {
    "orderCreate": (("DepLongitude", "DepLatitude"), ("DestLongitude", "DestLatitude")),
    "orderMatch": (("Longitude", "Latitude"),),
    "operateLogin": (("Longitude", "Latitude"),),
    "operateLogout": (("Longitude", "Latitude"),),
    "operateDepart": (("DepLongitude", "DepLatitude"),),
    "operateArrive": (("DestLongitude", "DestLatitude"),),
    "operatePay": (("DepLongitude", "DepLatitude"), ("DestLongitude", "DestLatitude")),
    "positionDriver": (("Longitude", "Latitude"),),
}

# Cross-field rules, checked after every field of a record passed its own check.
#
# Clock skew: a platform stamps a record's times on different machines (the driver's phone, the
# payment service), so a later stage may carry a time a little before an earlier one.
# Times that come from one event (boarding and alighting, a validity period) get no tolerance.
CLOCK_SKEW_SECONDS = 120

# record type → ((earlier field, later field, tolerance in seconds, code), ...): the later field
# must not precede the earlier one by more than the tolerance. The rejection names the later field.
TIME_ORDER: dict[str, tuple[tuple[str, str, int, str], ...]] = {
    "baseInfoDriver": (
        ("DriverLicenseOn", "DriverLicenseOff", 0, "end_before_start"),
        ("NetworkCarProofOn", "NetworkCarProofOff", 0, "end_before_start"),
        ("ContractOn", "ContractOff", 0, "end_before_start"),
    ),
    "baseInfoVehicle": (("TransDateStart", "TransDateStop", 0, "end_before_start"),),
    "baseInfoDriverEducate": (("StartTime", "StopTime", 0, "end_before_start"),),
    "orderCancel": (("OrderTime", "CancelTime", CLOCK_SKEW_SECONDS, "cancelled_before_ordered"),),
    "operatePay": (
        ("DepTime", "DestTime", 0, "end_before_start"),
        ("DepTime", "PayTime", CLOCK_SKEW_SECONDS, "paid_before_departure"),
    ),
}

# operatePay: FactPrice (paid) = Price (due, surcharges included) − BenfitPrice (discount), and
# FactPrice = CashPrice + LinePrice (electronic payment), each checked only when all its terms
# are present, to the fen: (minuend/addends, subtrahends).
PRICE_TOLERANCE_YUAN = "0.01"
PRICE_IDENTITIES: tuple[tuple[tuple[str, ...], tuple[str, ...]], ...] = (
    (("Price",), ("BenfitPrice",)),
    (("CashPrice", "LinePrice"), ()),
)

# Coordinates as sent (before any GCJ-02/BD-09 conversion) must lie in China's bounding box,
# in 1e-6 degree; outside it GCJ-02 is undefined and a mainland ride cannot be.
CHINA_LNG_MICRO = (73_500_000, 135_100_000)
CHINA_LAT_MICRO = (3_800_000, 53_600_000)

# Record types that carry Flag (1 new, 2 update, 3 delete).
FLAGGED = frozenset(name for name, spec in SPECS.items() if "Flag" in spec)


def required_fields(record_type: str) -> list[str]:
    return [name for name, f in SPECS[record_type].items() if f.required]
