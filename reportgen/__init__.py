"""reportgen: criticise a trained PyTorch image classifier in one self-contained HTML report."""

__version__ = "0.1.0"


def build_report(*args, **kwargs):
    """Analyse MODEL on DATA and write the report; see `reportgen.pipeline.build_report`."""
    from reportgen.pipeline import build_report as _build

    return _build(*args, **kwargs)


__all__ = ["build_report", "__version__"]
