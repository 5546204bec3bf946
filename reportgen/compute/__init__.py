"""Pure numerical analyses on the collected arrays: no I/O, no model, no HTML. Neighbours and projections,
class geometry and metrics, calibration, mislabel scores, modes within classes. Each function states its array
shapes; the sections in `analyses` turn their results into pages and JSON."""
