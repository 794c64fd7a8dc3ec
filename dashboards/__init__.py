"""Dashboard specs → aggregate queries → plotly figures (see dashboards.charts)."""
from dashboards.charts import PERIODS, Dimension, Spec, aggregate, figure, time_bucket

__all__ = ["PERIODS", "Dimension", "Spec", "aggregate", "figure", "time_bucket"]
