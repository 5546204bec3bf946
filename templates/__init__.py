"""Jinja templates and the report's own JS/CSS; shipped inside the wheel as reportgen.templates."""
