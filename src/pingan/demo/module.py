"""The demo city (演示数据): ``pingan demo`` writes a synthetic bureau on real divisions."""

from pingan.registry import Module

MODULE = Module(
    name="demo",
    label=("演示数据", "Demo city"),
    cli="pingan.demo.cli:register",
)
