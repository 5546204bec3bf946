"""`pip install .` builds a real wheel whose templates ship inside it, and that installed copy renders a report."""

import json
import os
import subprocess
import sys
import sysconfig
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_wheel_installs_and_renders_from_its_own_copy(tmp_path, model_files, image_tree):
    wheels = tmp_path / "wheels"
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q", "-w",
                    str(wheels), str(ROOT)], check=True, capture_output=True)
    (wheel,) = wheels.glob("reportgen-*.whl")
    names = zipfile.ZipFile(wheel).namelist()
    assert "reportgen/templates/report.html" in names and "reportgen/templates/report.js" in names
    assert "reportgen/templates/vendor/plotly-gl2d.min.js" in names
    # every module of the source tree ships: a subpackage missing from pyproject's list would be left out
    sources = {str(p.relative_to(ROOT)) for p in (ROOT / "reportgen").rglob("*.py")}
    assert sources <= set(names), sorted(sources - set(names))
    assert {f"reportgen/templates/{p.name}" for p in (ROOT / "templates").glob("*.js")} <= set(names)
    target = tmp_path / "site"
    subprocess.run([sys.executable, "-m", "pip", "install", "--no-deps", "-q", "--target", str(target),
                    str(wheel)], check=True, capture_output=True)
    script = (
        "import reportgen, sys; from reportgen import build_report;"
        "assert reportgen.__file__.startswith(sys.argv[1]), reportgen.__file__;"
        "build_report(sys.argv[2], sys.argv[3], sys.argv[4], json_path=sys.argv[5], quiet=True,"
        " projection='pca', workers=0)"
    )
    out = tmp_path / "out"
    # The scratch target first, then the test environment's packages (torch etc.), never the source tree.
    env = {**os.environ, "PYTHONPATH": f"{target}{os.pathsep}{sysconfig.get_paths()['purelib']}"}
    done = subprocess.run([sys.executable, "-s", "-c", script, str(target), str(model_files["pt2"]), str(image_tree),
                    str(out / "r.html"), str(out / "r.json")], cwd=tmp_path, env=env,
                   capture_output=True, text=True)
    assert done.returncode == 0, done.stderr[-3000:]
    assert json.loads((out / "r.json").read_text())["n_samples"] == 66
    assert "<section id=\"summary\"" in (out / "r.html").read_text()
