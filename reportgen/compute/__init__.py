"""Pure numerical analyses on the collected arrays: no I/O, no model, no HTML."""
