"""Deterministic generators for realistic (fictional) Chinese drivers, numbers and plates.

Everything takes a `random.Random`, so one seed always yields the same city. No Django here.
"""

import random
from dataclasses import dataclass
from datetime import date, timedelta

from stdnum.cn import ric

# Surnames weighted roughly by frequency in Sichuan (李, 王, 张, 刘, 陈, 杨 lead).
SURNAMES: list[tuple[str, int]] = [
    ("李", 90),
    ("王", 80),
    ("张", 75),
    ("刘", 70),
    ("陈", 65),
    ("杨", 55),
    ("黄", 35),
    ("周", 35),
    ("罗", 32),
    ("何", 30),
    ("吴", 28),
    ("赵", 26),
    ("徐", 22),
    ("胡", 22),
    ("唐", 22),
    ("邓", 20),
    ("曾", 20),
    ("谢", 18),
    ("冯", 16),
    ("蒋", 16),
    ("彭", 15),
    ("杜", 15),
    ("袁", 14),
    ("郭", 14),
    ("马", 13),
    ("朱", 13),
    ("林", 12),
    ("孙", 12),
    ("高", 12),
    ("郑", 11),
    ("梁", 11),
    ("宋", 10),
    ("许", 10),
    ("韩", 9),
    ("肖", 9),
    ("田", 9),
    ("董", 8),
    ("潘", 8),
    ("余", 8),
    ("程", 8),
    ("苏", 7),
    ("魏", 7),
    ("吕", 7),
    ("丁", 6),
    ("任", 6),
    ("沈", 6),
    ("姚", 6),
    ("卢", 6),
    ("钟", 6),
    ("谭", 6),
    ("廖", 6),
    ("贾", 5),
    ("夏", 5),
    ("付", 5),
    ("方", 5),
    ("邹", 5),
    ("熊", 5),
    ("秦", 5),
    ("雷", 5),
    ("龚", 4),
    ("严", 4),
    ("向", 4),
    ("汤", 4),
    ("文", 4),
    ("牟", 3),
    ("苟", 3),
    ("蒲", 3),
    ("敬", 2),
    ("欧阳", 1),
    ("司马", 1),
]
MALE_GIVEN = list(
    "伟强军勇磊涛斌超明刚平辉鹏华飞鑫波宇浩凯健俊帆帅旭宁龙林杰峰建国志海东亮成坤洋文"
    "兵锋德贵福祥荣昌富友刚春松江川渝蓉川锐航毅"
)
FEMALE_GIVEN = list("芳娟敏静丽艳娜霞燕玲桂英秀兰萍红梅琳莉雪婷慧倩蓉琴洁晓春凤霞佳颖")
# Characters used only as the first of a two-character given name.
MALE_FIRST = list("志建国文永德家明晓俊子天立世红小大海云金")
FEMALE_FIRST = list("秀晓丽春桂玉雪文小海美红淑慧")

# Birth places of Chengdu drivers: Chengdu's own districts and counties across Sichuan.
SICHUAN_COUNTIES = [
    "510104",
    "510105",
    "510106",
    "510107",
    "510108",
    "510112",
    "510113",
    "510121",
    "510129",
    "510131",
    "510181",
    "510182",
    "510183",
    "510184",
    "510321",
    "510322",
    "510521",
    "510522",
    "510623",
    "510681",
    "510722",
    "510723",
    "510781",
    "510821",
    "510824",
    "510921",
    "511024",
    "511025",
    "511123",
    "511321",
    "511322",
    "511323",
    "511324",
    "511325",
    "511381",
    "511421",
    "511621",
    "511622",
    "511623",
    "511722",
    "511724",
    "511725",
    "511921",
    "511922",
    "511923",
    "512021",
    "512022",
]
# Where mobile party members come from and keep their party relationship (流动党员), with the
# ID-number region codes of their home county: the old prefecture code before the reform year,
# the new one after (an ID number keeps the code that was valid in its holder's birth year).
HOME_ORGANISATIONS: list[tuple[tuple[str, ...], str]] = [
    (("412726", "411625"), "河南省周口市郸城县汲冢镇党委"),
    (("512225", "511224", "500235"), "重庆市云阳县南溪镇党委"),
    (("360622",), "江西省鹰潭市余江区锦江镇党委"),
    (("430524",), "湖南省邵阳市隆回县桃洪镇党委"),
    (("522122", "520322"), "贵州省遵义市桐梓县娄山关街道党工委"),
    (("342122", "341221"), "安徽省阜阳市临泉县城关街道党工委"),
    (("620522",), "甘肃省天水市秦安县兴国镇党委"),
    (("512927", "511324"), "四川省南充市仪陇县金城镇党委"),
    (("513029", "511724"), "四川省达州市大竹县竹阳街道党工委"),
    (("612322", "610722"), "陕西省汉中市城固县博望街道党工委"),
]
# Real mainland mobile prefixes (China Mobile, Unicom, Telecom), weighted towards the old ones.
MOBILE_PREFIXES = (
    [
        "134",
        "135",
        "136",
        "137",
        "138",
        "139",
        "150",
        "151",
        "152",
        "157",
        "158",
        "159",
        "182",
        "183",
        "187",
        "188",
        "198",
    ]
    * 3
    + ["130", "131", "132", "155", "156", "185", "186", "166", "175", "176"] * 2
    + ["133", "153", "180", "181", "189", "173", "177", "199", "191", "147", "178"]
)
PLATE_LETTERS = "ABCDEFGHJKLMNPQRSTUVWXYZ"
FUEL_CARS = [
    ("大众", "朗逸"),
    ("大众", "速腾"),
    ("丰田", "卡罗拉"),
    ("丰田", "凯美瑞"),
    ("日产", "轩逸"),
    ("本田", "思域"),
    ("别克", "英朗"),
    ("吉利", "帝豪"),
    ("长安", "逸动"),
    ("现代", "伊兰特"),
]
NEW_ENERGY_CARS = [
    ("比亚迪", "秦PLUS"),
    ("比亚迪", "e5"),
    ("比亚迪", "汉EV"),
    ("广汽埃安", "AION S"),
    ("吉利", "几何A"),
    ("荣威", "Ei5"),
    ("长安", "逸动EV"),
    ("北汽", "EU5"),
    ("哪吒", "U"),
    ("东风", "风神E70"),
]


@dataclass(frozen=True)
class Person:
    name: str
    gender: str  # "M" or "F", matching the ID number's 17th digit
    id_number: str
    phone: str


def _weighted_surname(rng: random.Random) -> str:
    names, weights = zip(*SURNAMES, strict=True)
    return rng.choices(names, weights=weights)[0]


def chinese_name(rng: random.Random, gender: str) -> str:
    male = gender == "M"
    last = MALE_GIVEN if male else FEMALE_GIVEN
    if rng.random() < 0.3:
        given = rng.choice(last)
    else:
        given = rng.choice(MALE_FIRST if male else FEMALE_FIRST) + rng.choice(last)
    return _weighted_surname(rng) + given


def id_number(
    rng: random.Random,
    gender: str,
    regions: list[str] | tuple[str, ...],
    born_from: date = date(1965, 1, 1),
    born_to: date = date(2000, 12, 31),
) -> str:
    """A checksum-valid resident ID number from one of `regions`, with a region code that was
    in use in the birth year; the 17th digit is odd for men, even for women."""
    days = (born_to - born_from).days + 1
    while True:
        region = rng.choice(regions)
        born = born_from + timedelta(days=rng.randrange(days))
        parity = rng.randrange(5) * 2 + (1 if gender == "M" else 0)
        body = f"{region}{born:%Y%m%d}{rng.randrange(100):02d}{parity}"
        number = body + ric.calc_check_digit(body + "0")
        if ric.is_valid(number):
            return number


def mobile(rng: random.Random) -> str:
    return rng.choice(MOBILE_PREFIXES) + f"{rng.randrange(10**8):08d}"


def plate(rng: random.Random, new_energy: bool) -> str:
    """A Chengdu plate: 川A + 5 characters, or 川A + D/F + 5 for new-energy cars (8 chars)."""
    if new_energy:
        energy = "D" if rng.random() < 0.8 else "F"
        if rng.random() < 0.3:
            return f"川A{energy}{rng.choice(PLATE_LETTERS)}{rng.randrange(10**4):04d}"
        return f"川A{energy}{rng.randrange(10**5):05d}"
    chars = [str(rng.randrange(10)) for _ in range(5)]
    for position in rng.sample(range(5), rng.choice((0, 1, 1, 2))):
        chars[position] = rng.choice(PLATE_LETTERS)
    return "川A" + "".join(chars)


class PeopleFactory:
    """Hands out people whose ID numbers and phones are unique within one build."""

    def __init__(self, rng: random.Random, reserved_phones: set[str] = frozenset()):
        self.rng = rng
        self.ids: set[str] = set()
        self.phones: set[str] = set(reserved_phones)
        self.plates: set[str] = set()

    def person(self, *, gender: str | None = None, regions: tuple[str, ...] = ()) -> Person:
        rng = self.rng
        gender = gender or ("M" if rng.random() < 0.92 else "F")
        regions = regions or SICHUAN_COUNTIES
        number = id_number(rng, gender, regions)
        while number in self.ids:
            number = id_number(rng, gender, regions)
        self.ids.add(number)
        phone = mobile(rng)
        while phone in self.phones:
            phone = mobile(rng)
        self.phones.add(phone)
        return Person(chinese_name(rng, gender), gender, number, phone)

    def plate(self, new_energy: bool) -> str:
        value = plate(self.rng, new_energy)
        while value in self.plates:
            value = plate(self.rng, new_energy)
        self.plates.add(value)
        return value

    def car(self, new_energy: bool) -> tuple[str, str]:
        return self.rng.choice(NEW_ENERGY_CARS if new_energy else FUEL_CARS)
