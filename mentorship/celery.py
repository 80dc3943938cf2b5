"""The Celery application: settings come from Django's (CELERY_* names)."""

import os

from celery import Celery
from celery.signals import task_postrun, task_prerun

from .log_context import job_finished, job_started

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "mentorship.settings")

app = Celery("mentorship")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()

# Each job's log lines carry its name and the ids it binds, never those of the job before it.
task_prerun.connect(job_started, weak=False)
task_postrun.connect(job_finished, weak=False)
