"""CLI commands of this domain."""


def register(app, import_app=None) -> None:
    """Add this domain's commands to the CLI."""
