"""Flask CLI commands: prepare the database, serve with timers, fire timers once."""

from __future__ import annotations

import os
import threading
import time

import click
from flask import Flask

from app.config import ROOT
from app.extensions import db


def _timer_loop(app: Flask, interval: int) -> None:
    from app.services import clock as clock_service
    from app.services import jobs, reminders, timers

    while True:
        time.sleep(interval)
        with app.app_context():
            try:
                clock_service.sync()
                fired = timers.run_due_timers()
                if fired:
                    app.logger.info("定时器触发 %s 个", fired)
                processed = jobs.run_pending()  # bulk jobs progress even when nobody watches
                if processed:
                    app.logger.info("后台作业处理 %s 项", processed)
                reminded = reminders.run()  # after timers: a fired timer may have opened or closed tasks
                if reminded["reminders"] or reminded["emails_sent"]:
                    app.logger.info("到期提醒 %s 条，邮件 %s 封", reminded["reminders"], reminded["emails_sent"])
            except Exception:  # noqa: BLE001 - the loop must survive one bad sweep
                app.logger.exception("timer sweep failed")
                db.session.rollback()
            finally:
                db.session.remove()


def register(app: Flask) -> None:
    @app.cli.command("db-upgrade")
    def db_upgrade() -> None:
        """Apply Alembic migrations."""
        from app.services.bootstrap import upgrade_database

        upgrade_database()
        click.echo("数据库已升级到最新版本")

    @app.cli.command("prepare")
    @click.option("--no-demo", is_flag=True, help="不加载演示数据")
    def prepare(no_demo: bool) -> None:
        """Migrate, seed the calendar, deploy bundled models, load demo data into an empty database."""
        from app.services.bootstrap import prepare as do_prepare

        click.echo(do_prepare(load_demo=not no_demo))

    @app.cli.command("set-password")
    @click.argument("username")
    @click.password_option("--password", prompt="新密码", confirmation_prompt="再次输入新密码")
    def set_password(username: str, password: str) -> None:
        """Set a user's password (policy-checked); their sessions and API tokens end."""
        from sqlalchemy import select

        from app.models import User
        from app.services import auth
        from app.services.errors import FormInvalid

        user = db.session.scalar(select(User).where(User.username == username))
        if user is None:
            raise click.ClickException(f"没有用户 {username}")
        try:
            auth.set_password(user, password)
        except FormInvalid as exc:
            db.session.rollback()
            raise click.ClickException("；".join(m for ms in exc.fields.values() for m in ms)) from exc
        db.session.commit()
        click.echo(f"已为 {username} 设置新密码")

    @app.cli.command("backup")
    @click.argument("path", required=False)
    def backup_command(path: str | None) -> None:
        """Back up the database and the stored documents into one .tar.gz archive."""
        from app import clock
        from app.services import backup

        if path is None:
            stamp = clock.wall_now().strftime("%Y%m%d-%H%M%S")
            path = str(ROOT / "instance" / "backups" / f"zhicheng-{stamp}.tar.gz")
        try:
            report = backup.create(path)
        except backup.BackupError as exc:
            raise click.ClickException(str(exc)) from exc
        click.echo(f"已备份到 {report.path}：{report.summary()}")

    @app.cli.command("restore")
    @click.argument("path")
    def restore_command(path: str) -> None:
        """Restore a backup archive into an empty database and an empty document directory."""
        from app.services import backup

        try:
            report = backup.restore(path)
        except backup.BackupError as exc:
            raise click.ClickException(str(exc)) from exc
        click.echo(f"已从 {path} 恢复：{report.summary()}")
        if not report.ok:
            for problem in report.problems:
                click.echo(f"  不一致：{problem}", err=True)
            raise SystemExit(1)
        click.echo("核对一致：每张表的行数、每个文档的文件和校验和都与备份相同")

    @app.cli.command("audit-verify")
    def audit_verify() -> None:
        """Recompute the hash chains of the audit trail; exit 1 naming the first broken link."""
        from app.services import audit

        report = audit.verify()
        click.echo(f"已核验 {report.chains} 条事件链、{report.events} 条审计记录")
        if report.ok:
            click.echo("审计记录完整：全部哈希链一致")
            return
        click.echo(f"审计记录被改动：{report.broken_chains} 条事件链断裂，第一个断点：{report.first_broken.describe()}", err=True)
        raise SystemExit(1)

    @app.cli.command("fire-timers")
    def fire_timers() -> None:
        """Fire every timer due at the app clock now, once."""
        from app.services import clock as clock_service
        from app.services import timers

        clock_service.sync()
        click.echo(f"fired: {timers.run_due_timers()}")

    @app.cli.command("send-reminders")
    def send_reminders() -> None:
        """Send the deadline reminders due at the app clock now, then the pending e-mails."""
        from app.services import clock as clock_service
        from app.services import reminders

        clock_service.sync()
        result = reminders.run()
        click.echo(f"reminders: {result['reminders']}, emails_sent: {result['emails_sent']}")

    @app.cli.command("run-server")
    def run_server() -> None:
        """Prepare the database and serve, with timers firing in-process (make run)."""
        from app.services.bootstrap import prepare as do_prepare

        started = time.monotonic()
        click.echo(do_prepare(load_demo=True))
        interval = int(app.config.get("TIMER_INTERVAL") or 0)
        if interval > 0:
            threading.Thread(target=_timer_loop, args=(app, interval), daemon=True).start()
        host = os.environ.get("HOST", "127.0.0.1")
        port = int(os.environ.get("PORT", "5000"))
        click.echo(f"准备用时 {time.monotonic() - started:.1f} 秒；服务地址 http://{host}:{port}/")
        from werkzeug.serving import run_simple

        run_simple(host, port, app, threaded=True, use_reloader=False)
