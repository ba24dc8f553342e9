"""CLI: ``pingan address parse TEXT`` and ``pingan import addresses FILE``."""

from __future__ import annotations

import json
from pathlib import Path

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

console = Console()


def _system_actor(db):
    from pingan.auth.actor import Actor
    from pingan.org.system import get_root

    root = get_root(db=db)
    if root is None:
        return None
    return Actor.system(root.id, root.path, name="cli")


def _parse(text: str, limit: int) -> tuple[dict, str | None]:
    """The parse with candidates from the database when it is reachable."""
    from sqlalchemy.exc import SQLAlchemyError

    from pingan.db.unit_of_work import unit_of_work
    from pingan.geo import service

    try:
        with unit_of_work(request_id="cli:address-parse") as db:
            actor = _system_actor(db)
            if actor is not None:
                return service.parse(text, db=db, actor=actor, limit=limit), None
    except SQLAlchemyError as exc:
        warning = f"数据库不可用，只显示行政区划解析 / database unavailable, divisions only: {exc.__class__.__name__}"
        return service.parse(text, limit=limit), warning
    return service.parse(text, limit=limit), "数据库中没有机构，只显示行政区划解析 / no org units yet, divisions only"


def register(app: typer.Typer, import_app: typer.Typer | None = None) -> None:
    """Add this domain's commands to the CLI."""
    address_app = typer.Typer(help="Standard addresses / 标准地址", no_args_is_help=True)
    app.add_typer(address_app, name="address")

    @address_app.command("parse")
    def parse_cmd(
        text: str = typer.Argument(..., help="address text / 地址文本"),
        as_json: bool = typer.Option(False, "--json", help="print JSON / 输出 JSON"),
        limit: int = typer.Option(5, min=1, max=20, help="candidates to show / 候选数"),
    ) -> None:
        """Parse an address: divisions anywhere in China, and the best standard addresses. / 地址解析"""
        from pingan.errors import DomainError

        try:
            result, warning = _parse(text, limit)
        except DomainError as exc:
            console.print(f"[red]{exc.zh}[/red] / {exc.en}")
            raise typer.Exit(2) from None
        if as_json:
            if warning:
                result = {**result, "warning": warning}
            typer.echo(json.dumps(result, ensure_ascii=False, indent=2))
            return
        division = result["division"]
        table = Table(title=f"行政区划 / Divisions — {division['text']}")
        table.add_column("级别 Level")
        table.add_column("名称 Name")
        table.add_column("代码 Code")
        for key, label in (("province", "省 province"), ("city", "市 city"), ("county", "区县 county"),
                           ("township", "乡镇街道 township")):
            ref = division[key]
            table.add_row(label, ref["name"] if ref else "—", ref["code"] if ref else "—")
        table.add_row("街路 street", division["remainder"] or "—", "")
        console.print(table)
        if division["note"]:
            console.print(f"[yellow]{division['note']}[/yellow] / {division['note_en']}")
        if len(division["candidates"]) > 1:
            others = "；".join(f"{c['full_name']} ({c['score']:.2f})" for c in division["candidates"][1:])
            console.print(f"[dim]其他可能 / other readings: {others}[/dim]")
        if warning:
            console.print(f"[yellow]{warning}[/yellow]")
            return
        cands = Table(title="候选标准地址 / Standard-address candidates")
        cands.add_column("#", justify="right")
        cands.add_column("标准地址 Address")
        cands.add_column("匹配度 Score", justify="right")
        cands.add_column("网格 Grid", justify="right")
        cands.add_column("坐标 Lat, Lon")
        for i, c in enumerate(result["candidates"], start=1):
            cands.add_row(str(i), c["full_text"], f"{c['score']:.2f}",
                          str(c["grid_id"]) if c["grid_id"] is not None else "—",
                          f"{c['lat']:.5f}, {c['lon']:.5f}")
        if not result["candidates"]:
            cands.add_row("", "没有匹配的标准地址 / no match", "", "", "")
        console.print(cands)

    if import_app is None:
        return

    @import_app.command("addresses")
    def import_addresses_cmd(
        file: Path = typer.Argument(..., help="CSV or XLSX file / 文件"),
        as_json: bool = typer.Option(False, "--json", help="print the report as JSON / 输出 JSON 报告"),
    ) -> None:
        """Import standard addresses (all or nothing). / 批量导入标准地址

        Columns: code, full_text, county_code, division_code, lat, lon; optional road, house_no,
        place_name, building, unit_no, room.
        """
        from pingan.db.unit_of_work import unit_of_work
        from pingan.errors import DomainError
        from pingan.geo.imports import import_addresses

        class _Failed(Exception):
            pass

        with Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                      console=console, transient=True, disable=as_json) as bar:
            tasks: dict[str, int] = {}

            def progress(phase: str, done: int, total: int | None) -> None:
                if phase not in tasks:
                    label = "校验 / validating" if phase == "validate" else "写入 / writing"
                    tasks[phase] = bar.add_task(label, total=total)
                bar.update(tasks[phase], completed=done, total=total)

            try:
                with unit_of_work(request_id="cli:import-addresses") as db:
                    actor = _system_actor(db)
                    if actor is None:
                        console.print("[red]数据库中没有机构，请先生成或导入机构[/red] / no org units in the database yet")
                        raise typer.Exit(2)
                    db.info["actor"] = actor
                    report = import_addresses(db=db, actor=actor, path=file, progress=progress)
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
                    console.print(f"  {err}")
            raise typer.Exit(1)
        if not as_json:
            console.print(f"[green]已导入 {report.imported} 条标准地址[/green] / imported {report.imported} addresses "
                          f"from {file}")
