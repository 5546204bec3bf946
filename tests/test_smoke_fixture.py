def test_fixture_report_builds(demo_like_report):
    assert demo_like_report.report["n_samples"] == 66
