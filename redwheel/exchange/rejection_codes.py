"""The exchange's rejection codes with their messages (docs/exchange.md lists every one; a test
fails if the validator can return a code missing here or there).

The English text is the gettext msgid; the Chinese text comes from the .po file when it is
translated and otherwise from `MESSAGES`, so protocol clients always get Chinese.
"""

from functools import lru_cache

from django.utils.translation import get_language, gettext, gettext_noop, override

# code → (English msgid, Chinese)
MESSAGES: dict[str, tuple[str, str]] = {
    "required": (gettext_noop("Required field is missing."), "缺少必填字段。"),
    "bad_type": (gettext_noop("The value has the wrong type."), "字段值类型错误。"),
    "too_long": (gettext_noop("The value is too long."), "字段值过长。"),
    "unsafe_text": (
        gettext_noop(
            "The text contains a control character or an invalid character (such as NUL)."
        ),
        "文本含有控制字符或无效字符（如 NUL）。",
    ),
    "bad_number": (
        gettext_noop("The number is not valid or out of range."),
        "数值无效或超出范围。",
    ),
    "bad_code": (
        gettext_noop("The value is not one of the allowed codes."),
        "字段值不在代码表内。",
    ),
    "bad_time": (
        gettext_noop("The time must be YYYYMMDDhhmmss (F14)."),
        "时间格式应为 YYYYMMDDhhmmss（F14）。",
    ),
    "bad_date": (gettext_noop("The date must be YYYYMMDD (F8)."), "日期格式应为 YYYYMMDD（F8）。"),
    "bad_month": (gettext_noop("The month must be YYYYMM (F6)."), "月份格式应为 YYYYMM（F6）。"),
    "bad_clock": (gettext_noop("The time of day must be hhmm."), "时刻格式应为 hhmm。"),
    "bad_coordinate": (
        gettext_noop("The coordinate must be an integer in 1e-6 degree within range."),
        "坐标应为以 1e-6 度为单位的整数且在有效范围内。",
    ),
    "bad_license": (
        gettext_noop("LicenseId must be a valid 18-character resident ID number."),
        "LicenseId 应为有效的18位居民身份证号码。",
    ),
    "bad_phone": (
        gettext_noop("The phone number is not a valid mainland mobile number."),
        "手机号码无效。",
    ),
    "bad_plate": (gettext_noop("The plate number is not valid."), "车牌号码无效。"),
    "bad_region": (
        gettext_noop("The region code is not a GB/T 2260 code."),
        "行政区划代码无效（GB/T 2260）。",
    ),
    "bad_vin": (
        gettext_noop("A VIN has 17 letters and digits."),
        "车辆识别代号应为17位字母或数字。",
    ),
    "foreign_company": (
        gettext_noop("CompanyId does not match the sending platform."),
        "CompanyId 与上传平台不一致。",
    ),
    "not_object": (gettext_noop("A record must be a JSON object."), "每条记录应为 JSON 对象。"),
    "duplicate_phone": (
        gettext_noop("This mobile number already belongs to another driver."),
        "该手机号码已属于其他司机。",
    ),
    "vehicle_driver_unknown": (
        gettext_noop(
            "No known driver uses this vehicle yet; send it again after the driver's "
            "base record and logins or orders."
        ),
        "尚无已知司机使用该车辆，请在司机基础信息及上线或订单数据之后重新上传。",
    ),
    "foreign_vehicle": (
        gettext_noop("This vehicle belongs to a driver of another platform."),
        "该车辆属于其他平台的司机。",
    ),
    "driver_other_city": (
        gettext_noop(
            "This licence belongs to a driver of another city; a platform reports only drivers "
            "of its own city."
        ),
        "该证件号属于其他城市的司机，平台只能上报本市司机。",
    ),
    # Cross-field rules (records.TIME_ORDER, PRICE_IDENTITIES, CHINA_*_MICRO).
    "end_before_start": (
        gettext_noop("This end time or date is earlier than its start."),
        "结束时间（日期）早于开始时间（日期）。",
    ),
    "paid_before_departure": (
        gettext_noop("PayTime is earlier than DepTime (beyond the allowed clock skew)."),
        "支付时间早于上车时间（超出允许的时钟误差）。",
    ),
    "cancelled_before_ordered": (
        gettext_noop("CancelTime is earlier than OrderTime (beyond the allowed clock skew)."),
        "取消时间早于下单时间（超出允许的时钟误差）。",
    ),
    "price_mismatch": (
        gettext_noop(
            "FactPrice does not equal Price minus BenfitPrice, or CashPrice plus LinePrice."
        ),
        "实收金额与应收金额减优惠金额、或现金与电子支付金额之和不符。",
    ),
    "outside_china": (
        gettext_noop(
            "The coordinate lies outside China (longitude 73.5–135.1, latitude 3.8–53.6)."
        ),
        "坐标不在中国境内（经度 73.5–135.1，纬度 3.8–53.6）。",
    ),
    "invalid": (gettext_noop("The record is not valid."), "记录无效。"),
}


def messages(code: str) -> tuple[str, str, str]:
    """(message in the active language, Chinese, English) for a rejection code."""
    lang = get_language() or "zh-hans"
    return _messages(code if code in MESSAGES else "invalid", lang)


@lru_cache(maxsize=512)
def _messages(code: str, lang: str) -> tuple[str, str, str]:
    msgid, zh_fallback = MESSAGES[code]
    with override("zh-hans"):
        zh = gettext(msgid)
    if zh == msgid:
        zh = zh_fallback
    with override("en"):
        en = gettext(msgid)
    return (zh if lang.lower().startswith("zh") else en), zh, en
