"""Sections to one self-contained page and its JSON twin: the HTML (`page`, with the Jinja partials, scripts and
styles under templates/), report.json (`report_json`), atomic writes (`files`), and the data the page's scripts
draw (`figure_data`, `table_data`, `sample_payload`, `display_sampling`). Python builds data; templates build
markup."""
