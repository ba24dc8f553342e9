"""CLI: ``pingan import units FILE`` (duty units, all or nothing)."""

from __future__ import annotations

import json
from pathlib import Path

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

console = Console()


def register(app: typer.Typer, import_app: typer.Typer | None = None) -> None:
    """Add this domain's commands to the CLI."""
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
        from pingan.org.repository import get_root

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
