"""Reference data every installation has (the provinces and default office
hours) and, on PostgreSQL, a trigger that makes the audit table append-only
at the database level: UPDATE and DELETE raise, whatever code asks."""

import datetime

from django.db import migrations

from core.db import append_only_guard

PROVINCES = [
    ("punjab", "Punjab", "پنجاب", "PP"),
    ("sindh", "Sindh", "سندھ", "PS"),
    ("kp", "Khyber Pakhtunkhwa", "خیبر پختونخوا", "PK"),
    ("balochistan", "Balochistan", "بلوچستان", "PB"),
    ("ict", "Islamabad Capital Territory", "اسلام آباد دارالحکومت", ""),
]


def add_reference_data(apps, schema_editor):
    Province = apps.get_model("core", "Province")
    OfficeHours = apps.get_model("core", "OfficeHours")
    for code, name, name_ur, prefix in PROVINCES:
        Province.objects.update_or_create(code=code, defaults={"name": name, "name_ur": name_ur, "pa_prefix": prefix})
    for weekday in range(5):  # Monday to Friday, 09:00–17:00; editable in the admin
        OfficeHours.objects.get_or_create(
            weekday=weekday, defaults={"opens": datetime.time(9, 0), "closes": datetime.time(17, 0)}
        )


class Migration(migrations.Migration):
    dependencies = [("core", "0001_initial")]

    operations = [
        migrations.RunPython(add_reference_data, migrations.RunPython.noop),
        append_only_guard("core_auditevent"),
    ]
