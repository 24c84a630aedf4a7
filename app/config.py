"""Configuration. Every key has a documented default; secrets have none outside demo/test."""

from __future__ import annotations

import os
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def database_url(url: str) -> str:
    """postgresql:// URLs use psycopg 3 (the driver we install)."""
    for prefix in ("postgresql://", "postgres://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix):]
    return url


def _flag(name: str, default: str = "0") -> bool:
    return os.environ.get(name, default).strip().lower() in {"1", "true", "yes", "on"}


class Config:
    # APP_ENV: development (default), test or production.
    APP_ENV = os.environ.get("APP_ENV", "development")
    # SECRET_KEY: signs sessions and CSRF tokens. Development gets a fixed, non-secret value.
    SECRET_KEY = os.environ.get("SECRET_KEY", "dev-only-not-secret")
    # DATABASE_URL: default is a SQLite file under instance/.
    SQLALCHEMY_DATABASE_URI = database_url(
        os.environ.get("DATABASE_URL", f"sqlite:///{ROOT / 'instance' / 'zhicheng.sqlite3'}")
    )
    SQLALCHEMY_ENGINE_OPTIONS: dict = {"pool_pre_ping": True}
    # CLOCK_OVERRIDE=1 lets administrators set the app clock (demo, training, test).
    CLOCK_OVERRIDE = _flag("CLOCK_OVERRIDE")
    # Where uploaded documents are stored (outside task data).
    DOCUMENT_DIR = os.environ.get("DOCUMENT_DIR", str(ROOT / "instance" / "documents"))
    # Diagram code (scripts, conditions, decision cells) stops past this many seconds or after the
    # process has grown by this many MB during one evaluation (app.engine.sandbox).
    SCRIPT_TIME_LIMIT = float(os.environ.get("SCRIPT_TIME_LIMIT", "3"))
    SCRIPT_MEMORY_MB = int(os.environ.get("SCRIPT_MEMORY_MB", "256"))
    # Upload limits.
    MAX_UPLOAD_BYTES = int(os.environ.get("MAX_UPLOAD_BYTES", str(10 * 1024 * 1024)))
    MAX_CONTENT_LENGTH = MAX_UPLOAD_BYTES + 1024 * 1024
    # Bundled models and forms.
    BPMN_DIR = os.environ.get("BPMN_DIR", str(ROOT / "bpmn"))
    FORMS_DIR = os.environ.get("FORMS_DIR", str(ROOT / "forms"))
    # Timer sweep interval for the in-process scheduler of `make run` (seconds; 0 disables).
    TIMER_INTERVAL = int(os.environ.get("TIMER_INTERVAL", "0"))
    # Celery (app/worker.py, app/background.py): with a broker URL, timers, message delivery,
    # reminders and bulk jobs run in Celery workers (beat sweeps every TIMER_SWEEP_SECONDS);
    # without one they run in-process (the `make run` timer loop, the job page's polling).
    CELERY_BROKER_URL = os.environ.get("CELERY_BROKER_URL", "")
    CELERY_RESULT_BACKEND = os.environ.get("CELERY_RESULT_BACKEND", "") or None
    TIMER_SWEEP_SECONDS = int(os.environ.get("TIMER_SWEEP_SECONDS", "30"))
    # A case-list Excel export of more rows than this is written by a background job (progress
    # page, download when done); up to it the file is sent in the request.
    EXPORT_SYNC_ROWS = int(os.environ.get("EXPORT_SYNC_ROWS", "2000"))
    # API bearer tokens live this many hours.
    TOKEN_HOURS = int(os.environ.get("TOKEN_HOURS", "12"))
    # Failed logins allowed per username within LOGIN_WINDOW_MINUTES before refusing.
    LOGIN_MAX_FAILURES = int(os.environ.get("LOGIN_MAX_FAILURES", "5"))
    # Public pages (certificate verification; later the 公示 pages and objections), per client IP.
    PUBLIC_RATE_LIMIT = os.environ.get("PUBLIC_RATE_LIMIT", "30 per minute")
    # memory:// suits one process; several workers share redis://127.0.0.1:6379/1.
    RATELIMIT_STORAGE_URI = os.environ.get("RATELIMIT_STORAGE_URI", "memory://")
    RATELIMIT_HEADERS_ENABLED = True
    LOGIN_WINDOW_MINUTES = int(os.environ.get("LOGIN_WINDOW_MINUTES", "15"))
    # Domain settings (decisions.md).
    GRADUATE_BATCH_CUTOFF_DAY = int(os.environ.get("GRADUATE_BATCH_CUTOFF_DAY", "10"))
    CORRECTION_WORKING_DAYS = int(os.environ.get("CORRECTION_WORKING_DAYS", "10"))
    # D11: notice periods and the time to conclude an objection, in working days.
    UNIT_NOTICE_WORKING_DAYS = int(os.environ.get("UNIT_NOTICE_WORKING_DAYS", "5"))
    PRE_NOTICE_WORKING_DAYS = int(os.environ.get("PRE_NOTICE_WORKING_DAYS", "5"))
    POST_NOTICE_WORKING_DAYS = int(os.environ.get("POST_NOTICE_WORKING_DAYS", "5"))
    OBJECTION_WORKING_DAYS = int(os.environ.get("OBJECTION_WORKING_DAYS", "10"))
    # Deadlines (deadlines.py, reminders.py): a human task without a due date in its model gets
    # this many working days; reminders go out this many working days before the due date, on it,
    # and once it has passed.
    TASK_DUE_WORKING_DAYS = int(os.environ.get("TASK_DUE_WORKING_DAYS", "10"))
    REMIND_BEFORE_WORKING_DAYS = int(os.environ.get("REMIND_BEFORE_WORKING_DAYS", "2"))
    # E-mail for reminders: unset SMTP_HOST means in-app notifications only.
    SMTP_HOST = os.environ.get("SMTP_HOST", "")
    SMTP_PORT = int(os.environ.get("SMTP_PORT", "25"))
    SMTP_USERNAME = os.environ.get("SMTP_USERNAME", "")
    SMTP_PASSWORD = os.environ.get("SMTP_PASSWORD", "")
    # none, starttls or ssl
    SMTP_SECURITY = os.environ.get("SMTP_SECURITY", "none")
    SMTP_TIMEOUT = int(os.environ.get("SMTP_TIMEOUT", "10"))
    MAIL_FROM = os.environ.get("MAIL_FROM", "noreply@localhost")
    # Public address of the app, for links in e-mails.
    BASE_URL = os.environ.get("BASE_URL", "http://127.0.0.1:5000")
    # Limit on objections (public form, per client address).
    OBJECTION_RATE_LIMIT = os.environ.get("OBJECTION_RATE_LIMIT", "5 per hour")
    WTF_CSRF_TIME_LIMIT = None
    WTF_I18N_ENABLED = False  # WTForms' own zh messages (no Flask-Babel)
    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
    # Cookies only over HTTPS: on by default in production (behind TLS), off for http://127.0.0.1.
    SESSION_COOKIE_SECURE = _flag("SESSION_COOKIE_SECURE", "1" if APP_ENV == "production" else "0")
    REMEMBER_COOKIE_SECURE = SESSION_COOKIE_SECURE
    REMEMBER_COOKIE_HTTPONLY = True
    REMEMBER_COOKIE_SAMESITE = "Lax"
    # Sent as Strict-Transport-Security when cookies are secure (the site is served over HTTPS).
    HSTS_SECONDS = int(os.environ.get("HSTS_SECONDS", "31536000"))
    # Scripts only from this site (no inline code, no eval); the data blocks of the diagram
    # pages are <script type="application/json">, which a policy does not run. Inline styles are
    # allowed: bpmn-js and dmn-js set them on the elements they draw.
    CONTENT_SECURITY_POLICY = os.environ.get(
        "CONTENT_SECURITY_POLICY",
        "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data: blob:; "
        "font-src 'self' data:; connect-src 'self'; object-src 'none'; base-uri 'self'; form-action 'self'; "
        "frame-ancestors 'none'",
    )
    JSON_AS_ASCII = False


class TestConfig(Config):
    APP_ENV = "test"
    TESTING = True
    SECRET_KEY = "test-secret"
    CLOCK_OVERRIDE = True
    SQLALCHEMY_DATABASE_URI = database_url(os.environ.get("TEST_DATABASE_URL", "sqlite://"))
    TIMER_INTERVAL = 0


def check_production(config: dict) -> None:
    """Refuse to start a production app without a secret and a PostgreSQL database."""
    if config.get("APP_ENV") != "production":
        return
    if not os.environ.get("SECRET_KEY"):
        raise RuntimeError("生产环境必须设置 SECRET_KEY")
    if not str(config.get("SQLALCHEMY_DATABASE_URI", "")).startswith("postgresql"):
        raise RuntimeError("生产环境必须使用 PostgreSQL（DATABASE_URL）")
    if config.get("CLOCK_OVERRIDE"):
        raise RuntimeError("生产环境不允许 CLOCK_OVERRIDE")
