"""Browser libraries that Python packages ship, served as static files: the network has no CDN,
and one copy serves every page (plotly.js comes with the plotly package)."""
from __future__ import annotations

from importlib import resources

from flask import Blueprint, send_file

blueprint = Blueprint("vendor", __name__, url_prefix="/static/vendor")


@blueprint.route("/plotly.min.js")
def plotly():
    script = resources.files("plotly") / "package_data" / "plotly.min.js"
    return send_file(str(script), mimetype="text/javascript", max_age=86400)
