"""`pingan stats`: a KPI for a period as a table, or the store brought up to date (统计)."""

from __future__ import annotations

import typer
from rich.console import Console
from rich.progress import BarColumn, Progress, TaskProgressColumn, TextColumn, TimeElapsedColumn
from rich.table import Table

console = Console()


def _change_text(change, metric, basis: str) -> str:
    """The baseline and the change in the words of the work summary (``stats.wording``)."""
    from pingan.stats.metrics import Kind
    from pingan.stats.wording import change_phrase, number

    if change is None:
        return ""
    phrase = change_phrase(change, basis=basis, rate=metric.kind is Kind.RATE)
    return phrase if change.baseline is None else f"{number(change.baseline, metric.unit)}｜{phrase}"


def _sync(full: bool):
    from pingan.stats.jobs import run_sync

    with Progress(TextColumn("[bold]{task.description}"), BarColumn(), TaskProgressColumn(), TimeElapsedColumn(),
                  console=console, transient=True) as bar:
        tasks: dict[str, int] = {}

        def progress(phase: str, done: int, total: int) -> None:
            if phase not in tasks:
                tasks[phase] = bar.add_task(f"同步 sync {phase}", total=max(total, 1))
            bar.update(tasks[phase], completed=done, total=max(total, done, 1))

        return run_sync(full=full, progress=progress)


def register(app: typer.Typer) -> None:
    _register_report(app)

    @app.command("stats")
    def stats(
        kpi: str = typer.Argument(..., help="KPI slug (指标), or 'list', or 'sync', or 'serve' (the statistics "
                                            "process, 统计服务)"),
        period: str = typer.Option(None, help="2026 | 2026-Q3 | 2026-07 | 2026-W05 | 2026-07-15 | A..B"),
        by: list[str] = typer.Option(None, help="dimension(s): station, branch, grid, month, hour, category …"),
        org: str = typer.Option(None, help="org unit code (机构代码); default the whole bureau"),
        full: bool = typer.Option(False, help="with 'sync': reload everything"),
        no_sync: bool = typer.Option(False, "--no-sync", help="do not bring the store up to date first"),
    ) -> None:
        """Compute a KPI (统计指标) for a period, with 环比 and 同比; or 'list' the KPIs; or 'sync' the store;
        or 'serve': run the statistics process (it owns the store; see `pingan serve --no-stats`)."""
        from pingan.auth.actor import Actor
        from pingan.db.unit_of_work import unit_of_work
        from pingan.errors import DomainError
        from pingan.org.repository import get_org_unit_by_code
        from pingan.org.system import get_root
        from pingan.stats import engine
        from pingan.stats.client import StatsError
        from pingan.stats.metrics import METRICS
        from pingan.stats.period import parse_period
        from pingan.stats.store import StatsStore, get_store
        from pingan.stats.wording import number

        if kpi == "serve":
            from pingan.stats.server import main

            main([])
            return
        if kpi == "list":
            table = Table("slug", "指标", "KPI", "单位", "口径 / definition")
            for m in METRICS.values():
                table.add_row(m.slug, m.zh, m.en, m.unit, m.definition_zh)
            console.print(table)
            return
        if kpi == "sync" or not no_sync:
            try:
                report = _sync(full and kpi == "sync")
            except (DomainError, StatsError) as exc:
                console.print(f"[red]{getattr(exc, 'zh', '统计库同步失败')}[/red] / {getattr(exc, 'en', exc)}")
                raise typer.Exit(1)
            store = get_store()
            console.print("[green]统计库已同步 / store synced[/green]"
                          + ("" if isinstance(store, StatsStore) else "（统计服务 / by the statistics process）")
                          + ": " + ", ".join(f"{s} {report.mode[s]} {n:,} rows" for s, n in report.rows.items())
                          + f" in {report.seconds:.1f} s")
            if isinstance(store, StatsStore) and store.path == ":memory:":
                console.print("[yellow]统计库文件被另一进程占用，本次使用内存副本 / the store file is held by "
                              "another process; this run used a private in-memory copy[/yellow]")
        if kpi == "sync":
            return
        if not period:
            console.print("[red]请给出 --period / --period is required[/red]")
            raise typer.Exit(2)
        try:
            with unit_of_work(request_id="cli:stats") as db:
                root = get_root(db=db)
                actor = Actor.system(root.id, root.path, name="cli:stats") if root is not None else None
                unit = get_org_unit_by_code(db=db, actor=actor, code=org) if org and actor else root
                if unit is None or root is None:
                    console.print(f"[red]机构不存在 / no such org unit[/red]: {org}")
                    raise typer.Exit(2)
                unit_id = unit.id
            metric = engine.get_metric(kpi)
            parsed = parse_period(period)
            result = engine.compute(store=get_store(), actor=actor, metrics=[metric], period=parsed, by=by or [],
                                    org_unit_id=unit_id)[0]
        except DomainError as exc:
            console.print(f"[red]{exc.zh}[/red] / {exc.en}")
            raise typer.Exit(2)
        except StatsError as exc:
            console.print(f"[red]统计查询失败 / statistics query failed[/red]: {exc}")
            raise typer.Exit(1)
        shown = result.period
        previous, last_year = shown.previous(), shown.last_year()
        table = Table(title=f"{metric.zh} / {metric.en} — {shown.label}（{shown.span}；单位 {metric.unit}）",
                      caption=(f"环比 {previous.label}（{previous.span}）；同比 {last_year.label}（{last_year.span}）"
                               + ("；本期未结束，按截至当前的同口径时段比较 / period not ended: compared to date"
                                  if shown.until else "")))
        for name in result.by:
            table.add_column(name)
        table.add_column("数值 value", justify="right")
        if metric.denominator:
            table.add_column("分子/分母", justify="right")
        table.add_column("环比 vs previous", justify="right")
        table.add_column("同比 vs last year", justify="right")
        for cell in result.cells:
            row = [cell.labels[d] for d in result.by] + [number(cell.value, metric.unit)]
            if metric.denominator:
                row.append(f"{cell.numerator:,.0f}/{cell.denominator:,.0f}")
            row += [_change_text(cell.previous, metric, "previous"), _change_text(cell.last_year, metric, "last_year")]
            table.add_row(*row)
        console.print(table)


# --- pingan report: issue (freeze) a work summary, or write an issued one again (工作综述) ---------


def _fail(zh: str, en: str) -> typer.Exit:
    console.print(f"[red]{zh}[/red] / {en}")
    return typer.Exit(2)


def _register_report(app: typer.Typer) -> None:
    @app.command("report")
    def report(
        out: str = typer.Option(..., "--out", help="the .docx to write / 输出文件"),
        period: str = typer.Option(None, help="2026 | 2026-Q3 | 2026-07 | 2026-W05 | 2026-07-15 | A..B"),
        org: str = typer.Option(None, help="org unit code (机构代码); default the whole bureau"),
        report_id: int = typer.Option(None, "--id", help="write this issued report again instead of issuing"),
        pdf: bool = typer.Option(False, "--pdf", help="write a PDF next to the .docx too (LibreOffice)"),
        no_sync: bool = typer.Option(False, "--no-sync", help="do not bring the store up to date first"),
    ) -> None:
        """Issue the work summary (签发工作综述) of an org unit for a period — every figure frozen, the
        .docx stored and written to --out —, or write an issued one again with --id."""
        from pathlib import Path

        from pingan.auth.actor import Actor
        from pingan.db.unit_of_work import unit_of_work
        from pingan.errors import DomainError
        from pingan.org.repository import get_org_unit_by_code
        from pingan.org.system import get_root
        from pingan.stats import service
        from pingan.stats.store import get_store

        target = Path(out)
        if target.suffix.lower() != ".docx":
            raise _fail("--out 应为 .docx 文件", "--out must be a .docx file")
        if not target.parent.is_dir():
            raise _fail(f"目录不存在：{target.parent}", f"no such directory: {target.parent}")
        if report_id is not None and (period or org):
            raise _fail("--id 不能与 --period、--org 同用", "--id cannot be combined with --period or --org")
        if report_id is None and not period:
            raise _fail("请给出 --period（或用 --id 重写已签发的综述）",
                        "--period is required (or --id to write an issued report again)")
        steps = [] if report_id is not None else [(key, f"{zh} {en}") for key, zh, en in service.STEPS]
        if pdf:
            steps.append(("pdf", "生成 PDF PDF"))
        if report_id is None and not no_sync:
            synced = _sync(False)
            console.print(f"[green]统计库已同步 / store synced[/green] in {synced.seconds:.1f} s")
        try:
            with unit_of_work(request_id="cli:report") as db:
                root = get_root(db=db)
                if root is None:
                    raise _fail("尚无机构，请先初始化数据库", "no org units yet; set the database up first")
                actor = Actor.system(root.id, root.path, name="cli:report")
                db.info["actor"] = actor
                if report_id is not None:
                    row = service.get(db=db, actor=actor, report_id=report_id, load=("docx",))
                    data, title, sha = row.docx, row.title, row.docx_sha256
                    pdf_data = service.pdf(row) if pdf else None
                else:
                    unit = get_org_unit_by_code(db=db, actor=actor, code=org) if org else root
                    if unit is None:
                        raise _fail(f"机构不存在：{org}", f"no such org unit: {org}")
                    with Progress(TextColumn("[bold]{task.description}"), BarColumn(), TaskProgressColumn(),
                                  TimeElapsedColumn(), console=console) as bar:
                        task = bar.add_task("签发 issuing", total=len(steps))
                        labels = dict(steps)

                        def advance(key: str) -> None:
                            done = [k for k, _ in steps].index(key)
                            bar.update(task, completed=done, description=labels[key])

                        row = service.issue(db=db, store=get_store(), actor=actor, period=period,
                                            org_unit_id=unit.id, progress=advance)
                        data, title, sha = row.docx, row.title, row.docx_sha256
                        pdf_data = None
                        if pdf:
                            advance("pdf")
                            pdf_data = service.pdf(row)
                        bar.update(task, completed=len(steps), description="完成 done")
                report_number = row.id
        except DomainError as exc:
            raise _fail(exc.zh, exc.en)
        target.write_bytes(data)
        console.print(f"[green]{'已签发' if report_id is None else '已写出'} / "
                      f"{'issued' if report_id is None else 'written'}[/green] #{report_number} {title}")
        console.print(f"  {target} ({len(data):,} bytes, SHA-256 {sha})")
        if pdf_data is not None:
            pdf_path = target.with_suffix(".pdf")
            pdf_path.write_bytes(pdf_data)
            console.print(f"  {pdf_path} ({len(pdf_data):,} bytes)")
