"""Login and logout (Flask-Login sessions)."""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import Blueprint, flash, redirect, render_template, request, session, url_for
from flask_login import current_user, login_required, login_user, logout_user
from flask_wtf import FlaskForm
from wtforms import PasswordField, StringField
from wtforms.validators import InputRequired, Length

from app.services import auth
from app.services.errors import NotAuthenticated, Throttled

bp = Blueprint("auth", __name__)


class LoginForm(FlaskForm):
    class Meta:
        locales = ("zh",)

    username = StringField("用户名", [InputRequired(message="请输入用户名"), Length(max=80)])
    password = PasswordField("密码", [InputRequired(message="请输入密码"), Length(max=200)])


def safe_next(target: str | None) -> str:
    if not target:
        return url_for("pages.inbox")
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return url_for("pages.inbox")
    return target


@bp.route("/login", methods=["GET", "POST"])
def login():
    if current_user.is_authenticated:
        return redirect(url_for("pages.inbox"))
    form = LoginForm()
    status = 200
    if form.validate_on_submit():
        try:
            user = auth.authenticate(form.username.data, form.password.data, request.remote_addr)
        except (NotAuthenticated, Throttled) as exc:
            form.password.errors = [exc.message]
            status = exc.status
        else:
            session.clear()  # a fresh session on login
            login_user(user)
            flash(f"欢迎，{user.display_name}", "success")
            return redirect(safe_next(request.args.get("next")))
    elif request.method == "POST":
        status = 422
    return render_template("auth/login.html", form=form), status


@bp.post("/logout")
@login_required
def logout():
    logout_user()
    session.clear()
    flash("已退出登录", "info")
    return redirect(url_for("auth.login"))
