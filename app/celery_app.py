"""Entry point of the Celery worker and beat processes: `celery -A app.celery_app worker|beat`."""

from app import create_app

flask_app = create_app()
celery = flask_app.extensions["celery"]
import app.background  # noqa: E402,F401 - registers the tasks
