"""CLI: ``pingan demo --scale small|city [--city 410700] [--seed N] [--reset]``."""

from __future__ import annotations

import time

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from pingan.demo.scale import ScaleName

console = Console()

PHASES = {
    "geography": "区划与网格 / divisions and grids",
    "organisation": "机构、警员与警力 / org, officers, units",
    "addresses": "标准地址 / standard addresses",
    "incidents": "警情 / incidents (days)",
}



def register(app: typer.Typer, import_app: typer.Typer | None = None) -> None:
    """Add ``pingan demo`` to the CLI."""

    @app.command("demo")
    def demo(
        scale: ScaleName = typer.Option(ScaleName.SMALL, "--scale", case_sensitive=False,
                                        help="small: the urban districts, under a minute; city: the whole city, "
                                             "about 1 M incidents; tiny: for tests / 演示规模"),
        city: str = typer.Option(None, "--city", help="prefecture-level city code, default 410700 新乡市 / 城市代码"),
        seed: int = typer.Option(None, "--seed", help="random seed; the same seed gives the same city / 随机种子"),
        reset: bool = typer.Option(False, "--reset", help="delete all existing data first / 先清空已有数据"),
        if_empty: bool = typer.Option(False, "--if-empty",
                                      help="only if the database has no org units yet; otherwise keep it and exit 0 "
                                           "(for `make demo` run twice) / 仅在数据库为空时生成"),
    ) -> None:
        """Generate a demo city: real divisions and boundaries, synthetic bureau, addresses and incidents.
        / 生成演示城市"""
        from pingan.config import get_settings
        from pingan.db.labels import table_labels
        from pingan.db.migrate import upgrade
        from pingan.db.session import get_engine
        from pingan.demo import generator
        from pingan.errors import DomainError

        try:
            city = generator.check_city(city)
        except DomainError as exc:
            console.print(f"[red]{exc.zh}[/red] / {exc.en}")
            raise typer.Exit(2) from None
        engine = get_engine()
        upgrade(engine)
        if generator.has_org_units(engine):
            if if_empty and not reset:
                console.print("数据库中已有机构数据，保留现有数据 / the database already has a bureau; keeping it",
                              soft_wrap=True)
                _print_accounts(generator.existing_accounts(engine), generator.DEMO_PASSWORD)
                return
            if not reset:
                console.print("[red]数据库中已有机构数据；如要重新生成演示数据请加 --reset（将清空全部数据）[/red]\n"
                              "The database already has org units; add --reset to delete all data and regenerate.")
                raise typer.Exit(2)
            with console.status("清空已有数据 / deleting existing data ..."):
                generator.reset(engine)
        started = time.perf_counter()
        with Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                      console=console) as bar:
            tasks: dict[str, int] = {}

            def progress(phase: str, done: int, total: int) -> None:
                if phase not in tasks:
                    tasks[phase] = bar.add_task(PHASES.get(phase, phase), total=total)
                bar.update(tasks[phase], completed=done, total=total)

            try:
                result = generator.generate(engine, city_code=city, scale=scale.value,
                                            seed=generator.DEFAULT_SEED if seed is None else seed,
                                            progress=progress)
            except DomainError as exc:
                console.print(f"[red]{exc.zh}[/red] / {exc.en}")
                raise typer.Exit(2) from None
        elapsed = time.perf_counter() - started
        counts = Table(title=f"{result.city}（{result.city_code}）演示数据 / demo data — scale {result.scale}, "
                             f"seed {result.seed}")
        counts.add_column("表 Table")
        counts.add_column("行数 Rows", justify="right")
        labels = table_labels()  # the tables' own names (each model's __label__)
        for name, rows in result.counts.items():
            zh, en = labels.get(name, (name, name))
            counts.add_row(f"{zh} {en}", f"{rows:,}")
        console.print(counts)
        console.print(f"警情自 {result.first_day} 起至今；当前未结警情 {result.open_incidents} 起 / incidents from "
                      f"{result.first_day} to now; {result.open_incidents} still open. "
                      f"用时 / took {elapsed:.1f} s")
        if result.skipped:
            console.print(f"[dim]未包含的区县 / counties left out at this scale: {'、'.join(result.skipped)}[/dim]")
        _print_accounts(result.accounts, result.password)
        console.print(f"数据库 / database: {get_settings().database_url}")


def _print_accounts(accounts, password: str) -> None:
    from pingan.org.models import Role

    table = Table(title="演示账号 / Demo accounts")
    for column in ("用户名 Username", "角色 Role", "所属机构 Org unit", "密码 Password"):
        table.add_column(column)
    for account in accounts:
        role = Role(account.role)
        table.add_row(account.username, f"{role.zh} {role.en}", f"{account.org_name} ({account.org_code})", password)
    console.print(table)
