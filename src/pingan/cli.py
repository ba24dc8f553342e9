"""The `pingan` command line (Typer). Each installed module adds its commands (``pingan.modules``)."""

from __future__ import annotations

import typer
from rich.console import Console

app = typer.Typer(help="Ping'an (平安) public-safety operations platform", no_args_is_help=True,
                  pretty_exceptions_show_locals=False)
db_app = typer.Typer(help="Database schema / 数据库", no_args_is_help=True)
user_app = typer.Typer(help="Users / 用户", no_args_is_help=True)
import_app = typer.Typer(help="Bulk import (CSV or XLSX; all-or-nothing) / 批量导入", no_args_is_help=True)
app.add_typer(db_app, name="db")
app.add_typer(user_app, name="user")
app.add_typer(import_app, name="import")
console = Console()


@app.command()
def serve(host: str = "127.0.0.1", port: int = 8000, workers: int = 1,
          jobs: bool = typer.Option(True, help="run background work: the scheduled jobs (the job worker) and the "
                                               "statistics sync"),
          stats: bool = typer.Option(True, help="start the statistics process (统计服务) as a child first; "
                                                "--no-stats when it runs as a service of its own"),
          worker: bool = typer.Option(True, help="start the job worker (作业进程, `pingan worker`) as a child; "
                                                 "--no-worker when it runs as a service of its own")) -> None:
    """Serve the web app and API (and the statistics process and the job worker). / 启动服务"""
    import os
    import signal
    import sys

    import uvicorn

    from pingan.stats.server import StatsProcess
    from pingan.worker import WorkerProcess

    os.environ["PINGAN_BACKGROUND_JOBS"] = "1" if jobs else "0"
    os.environ["PINGAN_STATS_SERVICE"] = "required"  # web workers read statistics from that process only
    children = []
    if stats:
        children.append(StatsProcess(sync=jobs))
    if worker and jobs:
        children.append(WorkerProcess())  # the scheduled jobs, once for the deployment (decision 0018)
    try:
        for child in children:
            child.start()  # the statistics process answers before the first web worker starts
        # uvicorn re-raises the SIGTERM it handled once it has shut down: exit through `finally`.
        signal.signal(signal.SIGTERM, lambda *_: sys.exit(128 + signal.SIGTERM))
        uvicorn.run("pingan.asgi:app", host=host, port=port, workers=workers, log_level="warning",
                    access_log=False)
    finally:
        for child in reversed(children):
            child.stop()


@app.command("worker")
def worker_command(status: bool = typer.Option(False, "--status", help="print what each job did last and exit")) -> None:
    """Run every module's scheduled jobs (作业进程), once per deployment. / 运行定时作业"""
    from pingan.worker import main, print_status, read_status

    if status:
        typer.echo(print_status(read_status()))
        return
    main([])


@db_app.command("upgrade")
def db_upgrade() -> None:
    """Migrate the database to the latest schema and sync code tables. / 升级数据库"""
    from pingan.config import get_settings
    from pingan.db.migrate import upgrade
    from pingan.db.session import get_engine

    upgrade(get_engine())
    console.print(f"[green]database at head[/green]: {get_settings().database_url}")


def _register_module_commands() -> None:
    from pingan.registry import register_commands

    register_commands(app, {"import_app": import_app, "user_app": user_app})


_register_module_commands()
