"""Statistics (统计 / 综述): declarative KPIs, the engine, rankings, dashboards and the work-summary document."""
