"""Application factory. Importing the package opens nothing."""

from __future__ import annotations

from typing import Any

from flask import Flask

from app.config import Config, check_production


def create_app(config: type[Config] | dict[str, Any] | None = None) -> Flask:
    app = Flask(__name__, template_folder="../templates", static_folder="../static", instance_relative_config=False)
    app.config.from_object(Config)
    if isinstance(config, dict):
        app.config.update(config)
    elif config is not None:
        app.config.from_object(config)
    check_production(app.config)
    from app.engine import sandbox

    sandbox.configure(app.config["SCRIPT_TIME_LIMIT"], app.config["SCRIPT_MEMORY_MB"])
    register_extensions(app)
    register_celery(app)
    register_request_hooks(app)
    register_row_ids(app)
    register_blueprints(app)
    register_errorhandlers(app)
    register_cli(app)
    return app


def register_extensions(app: Flask) -> None:
    from app.extensions import csrf, db, limiter, login_manager
    from app.services.auth import user_for_session

    if str(app.config.get("SQLALCHEMY_DATABASE_URI", "")).startswith("postgresql"):
        # Short OLTP queries: PostgreSQL's JIT compiles a plan for 10-15 ms whenever a row
        # estimate is high (an inbox of 5,000 tasks), more than such a query takes to run.
        options = dict(app.config.get("SQLALCHEMY_ENGINE_OPTIONS") or {})
        connect_args = dict(options.get("connect_args") or {})
        connect_args.setdefault("options", "-c jit=off")
        app.config["SQLALCHEMY_ENGINE_OPTIONS"] = {**options, "connect_args": connect_args}
    db.init_app(app)
    csrf.init_app(app)
    limiter.init_app(app)
    login_manager.init_app(app)
    login_manager.login_view = "auth.login"
    login_manager.login_message = "请先登录"
    login_manager.session_protection = "strong"
    login_manager.user_loader(user_for_session)
    from app.services import audit

    audit.install()


def register_request_hooks(app: Flask) -> None:
    from flask import request

    from app.services import clock as clock_service

    @app.before_request
    def _sync_clock() -> None:
        if app.config.get("CLOCK_OVERRIDE"):
            clock_service.sync()

    policy = app.config.get("CONTENT_SECURITY_POLICY")
    hsts = app.config.get("HSTS_SECONDS") if app.config.get("SESSION_COOKIE_SECURE") else None

    @app.after_request
    def _security_headers(response):
        headers = response.headers
        headers.setdefault("X-Content-Type-Options", "nosniff")
        headers.setdefault("X-Frame-Options", "DENY")
        headers.setdefault("Referrer-Policy", "same-origin")
        headers.setdefault("Cross-Origin-Opener-Policy", "same-origin")
        headers.setdefault("Permissions-Policy", "camera=(), microphone=(), geolocation=(), payment=()")
        if policy:
            headers.setdefault("Content-Security-Policy", policy)
        if hsts:
            headers.setdefault("Strict-Transport-Security", f"max-age={hsts}; includeSubDomains")
        if response.mimetype == "text/html" or "Authorization" in request.headers:
            # Pages and API answers carry personal data: no shared or browser cache keeps them.
            headers.setdefault("Cache-Control", "no-store")
        return response


def register_row_ids(app: Flask) -> None:
    """<int:..._id> and <int:number> in a URL name a row by an integer column (32 bits on PostgreSQL,
    64 on SQLite): a larger number names no row (404); let through, the database refuses to bind it
    (OverflowError, NumericValueOutOfRange: a 500). Checked once the rule is chosen, not in the
    converter: a converter that refuses a value makes Werkzeug answer 405 to the URL's other methods.
    (An <int:year> is no row: its views say what they make of an odd year.)"""
    from werkzeug.exceptions import NotFound

    from app.services.numbers import INT_MAX

    @app.url_value_preprocessor
    def _row_ids(endpoint: str | None, values: dict | None) -> None:
        if values and any(isinstance(v, int) and (k.endswith("_id") or k == "number") and not 0 <= v <= INT_MAX
                          for k, v in values.items()):
            raise NotFound()


def register_celery(app: Flask) -> None:
    from app.worker import init_celery

    init_celery(app)


def register_blueprints(app: Flask) -> None:
    from app.web import (
        api,
        archive,
        auth,
        authority,
        case_admin,
        dashboard,
        inbox,
        jobs,
        migrations,
        model_archive,
        models,
        notifications,
        oversight,
        pages,
        plans,
        public,
        reports,
        scenarios,
        studio,
        timeline,
        tracking,
    )

    for module in (auth, pages, archive, public, reports, authority, oversight, api,
                   models, migrations, jobs, model_archive, studio, scenarios, plans, timeline,
                   tracking, case_admin, dashboard, inbox, notifications):
        app.register_blueprint(module.bp)


def register_errorhandlers(app: Flask) -> None:
    from app.web.errors import register

    register(app)


def register_cli(app: Flask) -> None:
    from app.cli import register

    register(app)
