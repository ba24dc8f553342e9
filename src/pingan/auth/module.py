"""The authentication module: login, sessions, language, the home page by role."""

from pingan.registry import Module

MODULE = Module(
    name="auth",
    label=("登录与权限", "Login and permissions"),
    api_routers=("pingan.auth.routes:router",),
    page_routers=("pingan.auth.pages:router",),
    models="pingan.auth.models",
    audit_entities={"auth_session": ("登录会话", "session"), "login_lock": ("登录锁定", "login lock")},
)
