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
    register_extensions(app)
    register_request_hooks(app)
    register_blueprints(app)
    register_errorhandlers(app)
    register_cli(app)
    return app


def register_extensions(app: Flask) -> None:
    from app.extensions import csrf, db, limiter, login_manager
    from app.services.auth import user_for_session

    db.init_app(app)
    csrf.init_app(app)
    limiter.init_app(app)
    login_manager.init_app(app)
    login_manager.login_view = "auth.login"
    login_manager.login_message = "请先登录"
    login_manager.session_protection = "strong"
    login_manager.user_loader(user_for_session)


def register_request_hooks(app: Flask) -> None:
    from app.services import clock as clock_service

    @app.before_request
    def _sync_clock() -> None:
        if app.config.get("CLOCK_OVERRIDE"):
            clock_service.sync()

    @app.after_request
    def _security_headers(response):
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("X-Frame-Options", "DENY")
        response.headers.setdefault("Referrer-Policy", "same-origin")
        return response


def register_blueprints(app: Flask) -> None:
    from app.web import api, archive, auth, authority, oversight, pages, public, reports

    app.register_blueprint(auth.bp)
    app.register_blueprint(pages.bp)
    app.register_blueprint(archive.bp)
    app.register_blueprint(public.bp)
    app.register_blueprint(reports.bp)
    app.register_blueprint(authority.bp)
    app.register_blueprint(oversight.bp)
    app.register_blueprint(api.bp)
    from app.web import migrations

    app.register_blueprint(migrations.bp)
    from app.web import models  # process models: drafts per plan year, comparison, publishing (issue 5)
    app.register_blueprint(models.bp)
    from app.web import timeline  # the plan year's timeline (issue 5)
    app.register_blueprint(timeline.bp)
    from app.web import plans  # annual plans: import, export, publish, a new year (issue 5)
    app.register_blueprint(plans.bp)
    from app.web import scenarios  # scenario tests of a draft, run from the studio (issue 6)
    app.register_blueprint(scenarios.bp)
    from app.web import model_archive  # model export/import, new drafts, retiring versions (issue 6)
    app.register_blueprint(model_archive.bp)
    from app.web import studio  # browser editors of a draft: bpmn-js, dmn-js, forms (issue 6)
    app.register_blueprint(studio.bp)


def register_errorhandlers(app: Flask) -> None:
    from app.web.errors import register

    register(app)


def register_cli(app: Flask) -> None:
    from app.cli import register

    register(app)
