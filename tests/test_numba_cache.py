"""numba kernels compiled by one clone (one .venv) are found by another of the same library versions: they are
filed under their path inside site-packages, not under the absolute folder; and the first compile is announced
once, not on every run."""

import subprocess
import sys
import textwrap

KERNEL = '''
import numba

@numba.njit
def double(x):
    return 2 * x
'''

PROBE = textwrap.dedent("""
    import sys
    from reportgen.runtime.numba_cache import import_cached
    kernels = import_cached("rgfakekernels")
    assert kernels.__file__.startswith(sys.argv[1]), kernels.__file__
    assert kernels.double(21) == 42
    print(sum(kernels.double.stats.cache_hits.values()), sum(kernels.double.stats.cache_misses.values()))
""")


def test_a_second_clone_loads_the_kernels_the_first_compiled(tmp_path):
    clones = [tmp_path / name / "lib" / "python3.11" / "site-packages" for name in ("clone-a", "clone-b")]
    for site in clones:
        (site / "rgfakekernels").mkdir(parents=True)
        (site / "rgfakekernels" / "__init__.py").write_text(KERNEL)
    env = {"XDG_CACHE_HOME": str(tmp_path / "cache"), "PATH": "/usr/bin:/bin"}

    def run(site):
        done = subprocess.run([sys.executable, "-c", PROBE, str(site)], capture_output=True, text=True,
                              env={**env, "PYTHONPATH": f"{site}:{':'.join(sys.path[1:])}"})
        assert done.returncode == 0, done.stderr[-2000:]
        return [int(v) for v in done.stdout.split()]

    assert run(clones[0]) == [0, 1]  # compiled, and cached
    assert run(clones[1]) == [1, 0]  # another folder: loaded from the cache, nothing compiled
    assert list((tmp_path / "cache" / "reportgen" / "numba-nogil" / "portable").iterdir())


def test_the_compile_is_announced_until_it_has_happened(tmp_path, monkeypatch):
    from reportgen.runtime import numba_cache

    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    assert not numba_cache.compiled_before("umap")
    numba_cache.mark_compiled("umap")
    assert numba_cache.compiled_before("umap")
