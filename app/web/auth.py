"""Login and logout (Flask-Login sessions)."""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import Blueprint, flash, redirect, render_template, request, session, url_for
from flask_login import current_user, login_required, login_user, logout_user
from flask_wtf import FlaskForm
from wtforms import PasswordField, StringField
from wtforms.validators import InputRequired, Length

from app.extensions import db
from app.services import auth
from app.services.errors import FormInvalid, NotAuthenticated, Throttled

bp = Blueprint("auth", __name__)


class LoginForm(FlaskForm):
    class Meta:
        locales = ("zh",)

    username = StringField("用户名", [InputRequired(message="请输入用户名"), Length(max=80)])
    password = PasswordField("密码", [InputRequired(message="请输入密码"), Length(max=200)])


def safe_next(target: str | None) -> str:
    """Only a path on this site. Browsers read "//evil", a backslash for a slash and a path with
    control characters stripped as another host, so those go to the inbox instead."""
    if not target or "\\" in target or any(ord(c) < 32 or ord(c) == 127 for c in target):
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
    # Sessions live in signed cookies: moving the user's session generation on makes a copy of
    # this cookie (and the user's other sessions) worthless, not only the browser's own.
    user = current_user._get_current_object()
    user.session_generation += 1
    db.session.commit()
    logout_user()
    session.clear()
    flash("已退出登录", "info")
    return redirect(url_for("auth.login"))


class PasswordForm(FlaskForm):
    class Meta:
        locales = ("zh",)

    current_password = PasswordField("当前密码", [InputRequired(message="请输入当前密码"), Length(max=200)])
    new_password = PasswordField("新密码", [InputRequired(message="请输入新密码"), Length(max=200)])
    confirm_password = PasswordField("再次输入新密码", [InputRequired(message="请再次输入新密码"), Length(max=200)])


@bp.route("/account/password", methods=["GET", "POST"])
@login_required
def change_password():
    """Change one's own password: other sessions and API tokens end, this one is renewed."""
    form = PasswordForm()
    status = 200
    if form.validate_on_submit():
        user = current_user._get_current_object()
        try:
            auth.change_password(user, form.current_password.data, form.new_password.data,
                                 form.confirm_password.data)
        except FormInvalid as exc:
            db.session.rollback()
            for name, messages in exc.fields.items():
                form[name].errors = list(messages)
            status = exc.status
        else:
            db.session.commit()
            session.clear()
            login_user(user)
            flash("密码已修改；其他设备上的登录和 API 令牌已失效", "success")
            return redirect(url_for("pages.inbox"))
    elif request.method == "POST":
        status = 422
    return render_template("auth/password.html", form=form, min_length=auth.MIN_PASSWORD_LENGTH), status
