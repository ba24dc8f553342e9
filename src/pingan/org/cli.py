"""CLI: ``pingan import units FILE`` (duty units, all or nothing) and ``pingan user …`` (user management)."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from contextlib import contextmanager
from pathlib import Path

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

console = Console()


def register(app: typer.Typer, import_app: typer.Typer | None = None, user_app: typer.Typer | None = None) -> None:
    """Add this domain's commands to the CLI."""
    if user_app is not None:
        register_users(user_app)
    if import_app is None:
        return

    @import_app.command("units")
    def import_units_cmd(
        file: Path = typer.Argument(..., help="CSV or XLSX file / 文件"),
        as_json: bool = typer.Option(False, "--json", help="print the report as JSON / 输出 JSON 报告"),
    ) -> None:
        """Import duty units (all or nothing). / 批量导入警力

        Columns: call_sign, kind (patrol_car|foot_patrol|mounted_team|motorcycle or 巡逻车/步巡/骑警/摩托),
        org_unit_code, lat, lon; optional status (available|off_duty or 空闲/离线).
        """
        from pingan.auth.actor import Actor
        from pingan.db.unit_of_work import unit_of_work
        from pingan.errors import DomainError
        from pingan.org.imports import import_units
        from pingan.org.system import get_root

        class _Failed(Exception):
            """Raised inside the unit of work so that nothing is committed."""

        report = None
        with Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                      console=console, transient=True, disable=as_json) as bar:
            tasks: dict[str, int] = {}

            def progress(phase: str, done: int, total: int | None) -> None:
                if phase not in tasks:
                    label = "校验 / validating" if phase == "validate" else "写入 / writing"
                    tasks[phase] = bar.add_task(label, total=total)
                bar.update(tasks[phase], completed=done, total=total)

            try:
                with unit_of_work(request_id="cli:import-units") as db:
                    root = get_root(db=db)
                    if root is None:
                        console.print("[red]数据库中没有机构，请先生成或导入机构[/red] / no org units in the database yet")
                        raise typer.Exit(2)
                    actor = Actor.system(root.id, root.path, name="cli")
                    db.info["actor"] = actor
                    report = import_units(db=db, actor=actor, path=file, progress=progress)
                    if not report.ok:
                        raise _Failed
            except _Failed:
                pass
            except DomainError as exc:
                console.print(f"[red]{exc.zh}[/red] / {exc.en}")
                raise typer.Exit(2) from None
        if as_json:
            typer.echo(json.dumps(report.as_dict(), ensure_ascii=False, indent=2))
        if not report.ok:
            if not as_json:
                console.print(f"[red]导入失败，未写入任何数据：{len(report.errors)} 处错误[/red] / "
                              f"import failed, nothing written: {len(report.errors)} error(s)")
                for err in report.errors:
                    console.print(f"  {err}", markup=False, soft_wrap=True)
            raise typer.Exit(2)
        if not as_json:
            console.print(f"[green]已导入 {report.imported} 个警力[/green] / imported {report.imported} duty units "
                          f"from {file}")


# --- pingan user … (用户管理) ------------------------------------------------------------------------


@contextmanager
def _as_admin(request_id: str):
    """A unit of work acting as the system over the whole tree; a domain error ends the command
    with its message (exit 2), nothing committed."""
    from pingan.auth.actor import Actor
    from pingan.db.unit_of_work import unit_of_work
    from pingan.errors import DomainError
    from pingan.org.system import get_root

    try:
        with unit_of_work(request_id=request_id) as db:
            root = get_root(db=db)
            if root is None:
                console.print("[red]数据库中没有机构[/red] / no org units in the database yet")
                raise typer.Exit(2)
            actor = Actor.system(root.id, root.path, name="cli")
            db.info["actor"] = actor
            yield db, actor
    except DomainError as exc:
        field = f" ({exc.field})" if exc.field else ""
        console.print(f"[red]{exc.zh}[/red] / {exc.en}{field}", markup=True)
        raise typer.Exit(2) from None


def _user_id(db, username: str) -> int:
    from pingan.auth import policy
    from pingan.errors import NotFound
    from pingan.org.system import get_user_by_username

    user = get_user_by_username(db=db, username=policy.check_username(username))
    if user is None:
        raise NotFound(f"用户不存在：{policy.normalise_username(username)}", "No such user", field="username")
    return user.id


def _org_id(db, actor, code: str) -> int:
    from pingan.errors import ValidationFailed
    from pingan.org.repository import get_org_unit_by_code

    unit = get_org_unit_by_code(db=db, actor=actor, code=code)
    if unit is None:
        raise ValidationFailed(f"机构不存在：{code}", f"No such org unit: {code}", field="org")
    return unit.id


def _role(value: str):
    from pingan.errors import ValidationFailed
    from pingan.org.models import Role

    try:
        return Role(value)
    except ValueError:
        raise ValidationFailed(f"角色无效：{value}", f"Unknown role: {value}", field="role") from None


def _read_password(from_stdin: bool) -> str:
    """The new user's password: the first line of standard input, or typed twice, hidden. Never a
    command-line argument (it would stay in the shell's history and in the process list)."""
    if from_stdin:
        return sys.stdin.readline().rstrip("\r\n")
    return typer.prompt("密码 / password", hide_input=True, confirmation_prompt=True)


def register_users(user_app: typer.Typer) -> None:
    @user_app.command("create")
    def user_create(
        username: str,
        role: str = typer.Option(..., help="admin|dispatcher|station_chief|patrol|community|auditor"),
        org: str = typer.Option(..., help="org unit code / 机构代码"),
        display_name: str = typer.Option(None, help="display name / 姓名"),
        password_stdin: bool = typer.Option(False, "--password-stdin",
                                            help="read the password from standard input / 从标准输入读取密码"),
        one_time: bool = typer.Option(False, "--one-time",
                                      help="generate a one-time password, to be changed at first login / 生成一次性密码"),
    ) -> None:
        """Create a user (the password is prompted for, or read from stdin). / 新建用户"""
        from pingan.org import service

        password = None if one_time else _read_password(password_stdin)
        with _as_admin("cli:user-create") as (db, actor):
            user, generated = service.add_user(db=db, actor=actor, username=username, role=_role(role),
                                               display_name=display_name or username,
                                               org_unit_id=_org_id(db, actor, org), password=password)
            name, role_value = user.username, user.role
        console.print(f"[green]created[/green] {name} ({role_value}) at {org}")
        if generated:
            typer.echo(f"one-time password / 一次性密码: {generated}")

    @user_app.command("list")
    def user_list(org: str = typer.Option(None, help="org unit code / 机构代码"),
                  as_json: bool = typer.Option(False, "--json", help="JSON output")) -> None:
        """List users. / 用户列表"""
        from pingan.org.repository import list_users

        with _as_admin("cli:user-list") as (db, actor):
            rows = [{"username": u.username, "display_name": u.display_name, "role": str(u.role), "org": org_name,
                     "active": u.is_active, "must_change_password": u.must_change_password}
                    for u, org_name in list_users(db=db, actor=actor,
                                                  org_unit_id=_org_id(db, actor, org) if org else None, limit=100_000)]
        if as_json:
            typer.echo(json.dumps(rows, ensure_ascii=False, indent=2))
            return
        for r in rows:
            flags = ("" if r["active"] else " [disabled]") + (" [must change password]" if r["must_change_password"] else "")
            console.print(f"{r['username']}\t{r['role']}\t{r['org']}\t{r['display_name']}{flags}", markup=False)

    def _simple(name: str, doc: str, act: Callable, done: str) -> None:
        def command(username: str) -> None:
            with _as_admin(f"cli:user-{name}") as (db, actor):
                act(db=db, actor=actor, user_id=_user_id(db, username))
            console.print(f"[green]{done}[/green] {username.strip().lower()}")

        command.__doc__ = doc
        user_app.command(name)(command)

    from pingan.org import service as _service

    _simple("disable", "Disable a user and end their sessions. / 停用用户", _service.disable_user, "disabled")
    _simple("enable", "Enable a user again. / 重新启用用户", _service.enable_user, "enabled")
    _simple("end-sessions", "End every session of a user. / 强制下线", _service.end_user_sessions, "sessions ended")

    @user_app.command("reset-password")
    def user_reset_password(username: str) -> None:
        """Reset a password: a one-time password, printed once, to be changed at the next login. / 重置密码"""
        from pingan.org import service

        with _as_admin("cli:user-reset-password") as (db, actor):
            _user, password = service.reset_password(db=db, actor=actor, user_id=_user_id(db, username))
        typer.echo(f"one-time password / 一次性密码: {password}")

    @user_app.command("set")
    def user_set(username: str, role: str = typer.Option(None, help="new role / 角色"),
                 org: str = typer.Option(None, help="new org unit code / 机构代码"),
                 display_name: str = typer.Option(None, help="display name / 姓名")) -> None:
        """Assign a role, an org unit or a name. / 分配角色和单位"""
        from pingan.org import service

        with _as_admin("cli:user-set") as (db, actor):
            service.update_user(db=db, actor=actor, user_id=_user_id(db, username),
                                role=_role(role) if role else None,
                                org_unit_id=_org_id(db, actor, org) if org else None, display_name=display_name)
        console.print(f"[green]updated[/green] {username.strip().lower()}")

    @user_app.command("locks")
    def user_locks() -> None:
        """Accounts locked after many failed logins. / 被锁定的账号"""
        from pingan.auth import service as auth_service

        with _as_admin("cli:user-locks") as (db, actor):
            locks = [(lk.username, lk.expires_at, lk.failures, lk.addresses)
                     for lk in auth_service.list_locks(db=db, actor=actor)]
        for name, until, failures, addresses in locks:
            console.print(f"{name}\tuntil {until:%Y-%m-%d %H:%M} UTC\t{failures} failures from {addresses} addresses",
                          markup=False)
        if not locks:
            console.print("no locked accounts / 没有被锁定的账号")

    @user_app.command("unlock")
    def user_unlock(username: str) -> None:
        """Lift an account lock. / 解除锁定"""
        from pingan.auth import policy
        from pingan.auth import service as auth_service

        with _as_admin("cli:user-unlock") as (db, actor):
            auth_service.lift_lock(db=db, actor=actor, username=policy.check_username(username))
        console.print(f"[green]unlocked[/green] {username.strip().lower()}")
