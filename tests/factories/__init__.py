"""factory_boy factories for core's models. Names, CNICs and phone numbers are generated, never real."""

from __future__ import annotations

import factory
from django.contrib.auth import get_user_model

from core.models import Constituency, District, Office, OfficeKind, PollingStation, Province, StationType


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()
        django_get_or_create = ("username",)

    username = factory.Sequence(lambda n: f"user{n}")
    first_name = factory.Faker("first_name")
    last_name = factory.Faker("last_name")
    password = factory.django.Password("correct-horse-battery")


class ProvinceFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Province
        django_get_or_create = ("code",)

    code = "punjab"
    name = "Punjab"
    pa_prefix = "PP"


class DistrictFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = District
        django_get_or_create = ("province", "name")

    province = factory.SubFactory(ProvinceFactory)
    name = factory.Sequence(lambda n: f"District {n}")


class ConstituencyFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Constituency
        django_get_or_create = ("code",)

    house = "NA"
    code = factory.Sequence(lambda n: f"NA-{n % 900 + 1}")
    name = factory.LazyAttribute(lambda o: f"Constituency {o.code}")
    province = factory.SubFactory(ProvinceFactory)


class PollingStationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = PollingStation

    constituency = factory.SubFactory(ConstituencyFactory)
    number = factory.Sequence(lambda n: n + 1)
    name = factory.Sequence(lambda n: f"Government School No. {n + 1}")
    station_type = StationType.COMBINED
    male_booths = 2
    female_booths = 2
    male_voters = 900
    female_voters = 850


class OfficeFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Office
        django_get_or_create = ("code",)

    code = factory.Sequence(lambda n: f"office-{n}")
    kind = OfficeKind.CEC
    name = factory.Sequence(lambda n: f"Office {n}")
