"""Dashboard specs → aggregate queries → plotly figures (dashboards.charts for ad-hoc statistics,
dashboards.panels for the pre-aggregated panels of definition packs)."""
from dashboards.charts import PERIODS, Dimension, Spec, aggregate, figure, time_bucket

__all__ = ["PERIODS", "Dimension", "Spec", "aggregate", "figure", "time_bucket"]
