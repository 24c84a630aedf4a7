"""HTTP only: blueprints, view functions, WTForms glue, JSON API."""
