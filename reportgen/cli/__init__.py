"""The command line, a thin layer over the library: `reportgen MODEL DATA -o report.html`, `reportgen demo`,
`reportgen index`, `reportgen diff`, `reportgen comment`. Every command calls a library function and turns a
ReportgenError into one line on stderr and exit status 2."""

from __future__ import annotations

import os
import sys

import click

from reportgen import __version__
from reportgen.cli.archive import comment_command, diff_command, index_command
from reportgen.cli.options import DefaultToReport
from reportgen.cli.report import demo_command, report_command
from reportgen.runtime.third_party_warnings import hide_third_party_notices


@click.group(cls=DefaultToReport, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="reportgen")
def cli():
    """Criticise a trained PyTorch image classifier: one self-contained HTML report and its JSON twin.

    \b
      reportgen model.pt2 data/ -o report.html
      reportgen demo -o report.html
    """


for command in (report_command, demo_command, index_command, diff_command, comment_command):
    cli.add_command(command)


def main(argv=None):
    hide_third_party_notices()
    try:
        cli.main(args=argv, prog_name="reportgen", standalone_mode=False)
    except (click.exceptions.Abort, KeyboardInterrupt):
        # A DataLoader interrupted mid-start complains from __del__ at exit; the one line below says it all.
        sys.unraisablehook = lambda _info: None
        click.echo("reportgen: interrupted; no report was written", err=True)
        if argv is None:  # the console command: a fit thread may still run, and exiting must not wait for it
            sys.stdout.flush()
            sys.stderr.flush()
            os._exit(130)
        sys.exit(130)
    except click.ClickException as exc:
        exc.show()
        sys.exit(exc.exit_code)
    except click.exceptions.Exit as exc:
        sys.exit(exc.exit_code)
    if argv is None:  # the console command, not a caller in this process
        # Everything is written and said. The interpreter's teardown after a report (freeing the arrays, the
        # libraries' exit hooks) took 2.0 s of a 27.6 s run at N = 10,000 (bench/harness.py): skip it.
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(0)
