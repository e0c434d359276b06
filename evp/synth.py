"""A synthetic but realistic electoral roll, for demos, tests and the benchmark. Pure (no Django).

Families live in one census block and share a family number and an address: a head, usually a wife, and
grown children; men and transgender electors are numbered on the block's male list, women on its female list.
Names are common Pakistani names in both scripts. CNICs have the real shape (a five-digit area prefix from the
district, then eight digits) and are unique within a file: the running number goes through a bijection of
0…10⁸−1, so no set of the CNICs written is kept (memory stays flat at any size).
"""

from __future__ import annotations

import csv
import datetime
import random
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import TextIO

from .roll import COLUMNS

MALE_NAMES = [
    ("Muhammad Ali", "محمد علی"), ("Ahmed Raza", "احمد رضا"), ("Imran Khan", "عمران خان"), ("Bilal Ahmed", "بلال احمد"),
    ("Usman Tariq", "عثمان طارق"), ("Hamza Iqbal", "حمزہ اقبال"), ("Zeeshan Haider", "ذیشان حیدر"),
    ("Faisal Mehmood", "فیصل محمود"), ("Asad Ullah", "اسد اللہ"), ("Kashif Javed", "کاشف جاوید"),
    ("Naveed Akhtar", "نوید اختر"), ("Tariq Aziz", "طارق عزیز"), ("Shahid Afridi", "شاہد آفریدی"),
    ("Waqas Butt", "وقاص بٹ"), ("Junaid Anwar", "جنید انور"), ("Rashid Minhas", "راشد منہاس"),
    ("Saad Qureshi", "سعد قریشی"), ("Adnan Sami", "عدنان سمیع"), ("Khalid Mehmood", "خالد محمود"),
    ("Abdul Rehman", "عبدالرحمٰن"), ("Ghulam Abbas", "غلام عباس"), ("Noman Ijaz", "نعمان اعجاز"),
    ("Sohail Abbas", "سہیل عباس"), ("Yasir Hameed", "یاسر حمید"), ("Amir Hussain", "عامر حسین"),
    ("Irfan Ullah", "عرفان اللہ"), ("Habib Jalib", "حبیب جالب"), ("Mansoor Ali", "منصور علی"),
]  # fmt: skip
FEMALE_NAMES = [
    ("Ayesha Bibi", "عائشہ بی بی"), ("Fatima Zahra", "فاطمہ زہرا"), ("Saima Noor", "صائمہ نور"),
    ("Nadia Khan", "نادیہ خان"), ("Rabia Anwar", "رابعہ انور"), ("Sana Javed", "ثنا جاوید"),
    ("Hina Rabbani", "حنا ربانی"), ("Maryam Nawaz", "مریم نواز"), ("Zainab Ali", "زینب علی"),
    ("Kiran Shahzadi", "کرن شہزادی"), ("Uzma Parveen", "عظمیٰ پروین"), ("Nasreen Akhtar", "نسرین اختر"),
    ("Shazia Malik", "شازیہ ملک"), ("Bushra Ansari", "بشریٰ انصاری"), ("Farzana Yasmin", "فرزانہ یاسمین"),
    ("Amna Ilyas", "آمنہ الیاس"), ("Iqra Aziz", "اقراء عزیز"), ("Sadia Imam", "سعدیہ امام"),
    ("Rukhsana Noreen", "رخسانہ نورین"), ("Tahira Syed", "طاہرہ سید"), ("Mehwish Hayat", "مہوش حیات"),
    ("Samina Ahmed", "ثمینہ احمد"), ("Shamim Ara", "شمیم آرا"), ("Asma Jahangir", "عاصمہ جہانگیر"),
]  # fmt: skip
FAMILY_NAMES = [
    ("Khan", "خان"), ("Malik", "ملک"), ("Chaudhry", "چودھری"), ("Butt", "بٹ"), ("Qureshi", "قریشی"),
    ("Awan", "اعوان"), ("Sheikh", "شیخ"), ("Raja", "راجہ"), ("Mughal", "مغل"), ("Baloch", "بلوچ"),
    ("Shah", "شاہ"), ("Siddiqui", "صدیقی"), ("Abbasi", "عباسی"), ("Gondal", "گوندل"), ("Rajput", "راجپوت"),
    ("Jatoi", "جتوئی"), ("Memon", "میمن"), ("Yousafzai", "یوسفزئی"), ("Khattak", "خٹک"), ("Bhatti", "بھٹی"),
]  # fmt: skip
STREETS = [("Street", "گلی"), ("Mohalla", "محلہ"), ("House", "مکان")]

_PERMUTE_A = 48_271  # coprime to 10**8: i -> (A*i + B) mod 10**8 is a bijection
_SPACE = 10**8


@dataclass(frozen=True)
class BlockShape:
    code: str  # 9 digits
    cnic_prefix: str  # 5 digits, the first not 0
    area: str
    area_ur: str
    weight: float  # relative number of electors


def apportion(weights: Sequence[float], total: int) -> list[int]:
    """Split ``total`` in proportion to ``weights`` (largest remainders), summing to ``total`` exactly."""
    whole = sum(weights)
    if total <= 0 or whole <= 0:
        return [0] * len(weights)
    shares = [w * total / whole for w in weights]
    counts = [int(s) for s in shares]
    order = sorted(range(len(weights)), key=lambda i: shares[i] - counts[i], reverse=True)
    for i in order[: total - sum(counts)]:
        counts[i] += 1
    return counts


def cnic_for(prefix: str, index: int, seed: int) -> str:
    if index >= _SPACE:
        raise ValueError("A synthetic roll holds at most 100 million electors.")
    return f"{prefix}{(_PERMUTE_A * index + seed * 7_919) % _SPACE:08d}"


def generate(
    blocks: Sequence[BlockShape], count: int, seed: int = 0, today: datetime.date | None = None
) -> Iterator[list[str]]:
    """``count`` elector rows (in COLUMNS order) spread over ``blocks`` by weight."""
    rng = random.Random(seed)
    year = (today or datetime.date.today()).year
    index = 0
    for block, quota in zip(blocks, apportion([b.weight for b in blocks], count), strict=True):
        serial = {"M": 0, "F": 0}
        family = 0
        while quota > 0:
            family += 1
            surname, surname_ur = rng.choice(FAMILY_NAMES)
            street, street_ur = rng.choice(STREETS)
            house = rng.randint(1, 999)
            address = f"{street} {rng.randint(1, 60)}, House {house}, {block.area}"
            address_ur = f"{street_ur} {rng.randint(1, 60)}، مکان {house}، {block.area_ur}"
            head_age = rng.randint(30, 80)
            first, first_ur = rng.choice(MALE_NAMES)
            head = (f"{first} {surname}", f"{first_ur} {surname_ur}")
            father = rng.choice(MALE_NAMES)
            members: list[tuple[str, str, tuple[str, str], tuple[str, str], int]] = [
                ("M", "father", head, (f"{father[0]} {surname}", f"{father[1]} {surname_ur}"), head_age)
            ]
            if rng.random() < 0.85:
                wife = rng.choice(FEMALE_NAMES)
                members.append(("F", "husband", wife, head, max(18, head_age - rng.randint(0, 8))))
            for _ in range(rng.choice((0, 0, 1, 1, 2, 2, 3, 4))):
                age = head_age - rng.randint(20, 35)
                if age < 18:
                    continue
                gender = "X" if rng.random() < 0.0005 else rng.choice("MF")
                child = rng.choice(FEMALE_NAMES if gender == "F" else MALE_NAMES)
                members.append((gender, "father", (f"{child[0]}", f"{child[1]}"), head, age))
            for gender, relation, (name, name_ur), (rel_name, rel_name_ur), age in members[:quota]:
                roll = "F" if gender == "F" else "M"
                serial[roll] += 1
                born = datetime.date(year - age - 1, rng.randint(1, 12), rng.randint(1, 28))
                yield [
                    cnic_for(block.cnic_prefix, index, seed),
                    name,
                    name_ur,
                    relation,
                    rel_name,
                    rel_name_ur,
                    gender,
                    born.isoformat(),
                    address,
                    address_ur,
                    block.code,
                    str(serial[roll]),
                    str(family),
                    "active",
                ]
                index += 1
            quota -= min(quota, len(members))


def bad_rows(good_example: list[str], count: int, seed: int = 0) -> Iterator[list[str]]:
    """Rows that must land in the bad-row report: an invalid CNIC, an unknown block, a repeated CNIC, a minor."""
    rng = random.Random(seed + 1)
    for i in range(count):
        row = list(good_example)
        kind = i % 4
        if kind == 0:
            row[0] = str(rng.randint(10**11, 10**12 - 1))  # 12 digits
        elif kind == 1:
            row[10] = "000000000"
        elif kind == 2:
            pass  # the example's own CNIC again: both lines are refused as duplicates
        else:
            row[7] = datetime.date.today().replace(day=1).isoformat()
        yield row


def write_csv(rows: Iterator[list[str]], out: TextIO) -> int:
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(COLUMNS)
    n = 0
    for row in rows:
        writer.writerow(row)
        n += 1
    return n
