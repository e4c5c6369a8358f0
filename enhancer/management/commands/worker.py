"""`python manage.py worker --queue-name default`: a task worker with a heartbeat.

The same options as django-tasks-db's `db_worker` (it is that command with `HeartbeatWorker`, see
enhancer/workers.py): run one per queue, or several, on any number of hosts sharing the database.
"""

from __future__ import annotations

from django_tasks_db.management.commands import db_worker

from enhancer.workers import HeartbeatWorker


class Command(db_worker.Command):
    help = "Run a task worker that keeps a heartbeat and takes back the tasks of dead workers."

    def handle(self, *args, **options) -> None:
        # db_worker builds its Worker by name inside handle(); swap the class for this call.
        original = db_worker.Worker
        db_worker.Worker = HeartbeatWorker
        try:
            super().handle(*args, **options)
        finally:
            db_worker.Worker = original
