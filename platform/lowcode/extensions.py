"""Extension objects, created unbound; the application factory binds them."""
from flask_appbuilder import AppBuilder, Model
from flask_appbuilder.models.sqla.base import SQLA

db = SQLA(model_class=Model)
appbuilder = AppBuilder(update_perms=False)
