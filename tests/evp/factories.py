"""factory_boy factories for evp's models. Names, CNICs and places are invented."""

from __future__ import annotations

import datetime

import factory
from django.utils import timezone

from core.models import CensusBlock, District, Province, Tehsil
from evp.models import Elector, StationRange


class DistrictFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = District
        django_get_or_create = ("province", "name")

    province = factory.LazyFunction(lambda: Province.objects.get(code="punjab"))
    name = "Sabzpur"
    name_ur = "سبزپور"


class TehsilFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Tehsil
        django_get_or_create = ("district", "name")

    district = factory.SubFactory(DistrictFactory)
    name = "Kot Rahim"
    name_ur = "کوٹ رحیم"


class CensusBlockFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = CensusBlock

    code = factory.Sequence(lambda n: f"{310_000_001 + n:09d}")
    electoral_area = factory.Sequence(lambda n: f"Kot Rahim Ward {n + 1}")
    electoral_area_ur = factory.Sequence(lambda n: f"کوٹ رحیم وارڈ {n + 1}")
    district = factory.SubFactory(DistrictFactory)
    tehsil = factory.SubFactory(TehsilFactory, district=factory.SelfAttribute("..district"))


class StationRangeFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = StationRange

    block = factory.SubFactory(CensusBlockFactory)
    roll = "M"
    serial_from = 1
    serial_to = None


class ElectorFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Elector

    cnic = factory.Sequence(lambda n: 3_520_210_000_000 + n * 7 + 1)
    name = factory.Sequence(lambda n: f"Bilal Ahmed Khan {n}")
    name_ur = "بلال احمد خان"
    relation = "father"
    relation_name = "Ghulam Abbas Khan"
    relation_name_ur = "غلام عباس خان"
    gender = "M"
    date_of_birth = datetime.date(1979, 4, 23)
    address = factory.Sequence(lambda n: f"House {n + 1}, Street 9, Mohalla Chiraghabad")
    address_ur = "مکان ۱، گلی ۹، محلہ چراغ آباد"
    block = factory.SubFactory(CensusBlockFactory)
    roll = factory.LazyAttribute(lambda o: "F" if o.gender == "F" else "M")
    serial = factory.Sequence(lambda n: n + 1)
    family_number = 1
    status = "active"
    updated_at = factory.LazyFunction(timezone.now)
