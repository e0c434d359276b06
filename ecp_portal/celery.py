"""The Celery application: queues default, sms and omr; beat from the database.

Workers: ``celery -A ecp_portal worker -Q default,sms,omr``; beat:
``celery -A ecp_portal beat``. With no broker configured (the embedded
default) tasks run eagerly in the calling process.
"""

import os

from celery import Celery
from kombu import Queue

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "ecp_portal.settings")

app = Celery("ecp_portal")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.conf.task_queues = [Queue(name) for name in ("default", "sms", "omr")]
app.autodiscover_tasks()
